// How the engine's memory plan (train/memory-plan.ts) is judged on the page: what it may assume it can use, and
// whether a plan fits in it. The plan itself is the engine's; the page has no estimate of its own.

/** What the page may assume it can use: WebGPU does not expose VRAM, so half the reported RAM, else 4 GiB. */
export function availableBytes(deviceMemoryGiB: number | undefined): number {
  const gib = 1024 ** 3;
  return deviceMemoryGiB && deviceMemoryGiB > 0 ? (deviceMemoryGiB * gib) / 2 : 4 * gib;
}

export type Fit = 'fits' | 'tight' | 'too-big';

export function fitOf(used: number, limit: number): Fit {
  if (!(limit > 0)) return 'fits';
  if (used > limit) return 'too-big';
  return used > 0.8 * limit ? 'tight' : 'fits';
}
