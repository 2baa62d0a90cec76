// Scratch buffers that kernels keep between calls (the output head's partials, LoRA's dropped input), one per key
// and context, only ever growing. A smaller one that is replaced is not destroyed: a recorder that has not been
// submitted yet may still reference it.
import type { GpuContext } from '../gpu/context.ts';

const cache = new WeakMap<GpuContext, Map<string, GPUBuffer>>();

/** At least `bytes` of scratch under `key` (e.g. "head.fwd"); contents are undefined. */
export function scratchBuffer(ctx: GpuContext, key: string, bytes: number): GPUBuffer {
  let m = cache.get(ctx);
  if (!m) cache.set(ctx, (m = new Map()));
  let b = m.get(key);
  if (!b || b.size < bytes) {
    b = ctx.buffer(key, grownScratchBytes(b?.size ?? 0, bytes, ctx.caps.maxBufferSize));
    m.set(key, b);
  }
  return b;
}

/** The size a scratch buffer of `size` bytes is replaced with when `bytes` are asked for: at least double, so a
 *  growing batch reallocates a few times, not every step (the memory planner repeats this to count them). */
export function grownScratchBytes(size: number, bytes: number, maxBufferSize: number): number {
  return Math.max(bytes, Math.min(size * 2, maxBufferSize));
}

/** Frees the scratch buffers whose key starts with `prefix` (call only with no recorder pending). */
export function releaseScratch(ctx: GpuContext, prefix = ''): void {
  const m = cache.get(ctx);
  if (!m) return;
  for (const [k, b] of m) {
    if (!k.startsWith(prefix)) continue;
    ctx.release(b);
    m.delete(k);
  }
}
