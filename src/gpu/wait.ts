// dawn.node (the `webgpu` package) settles GPU promises from a setImmediate loop that runs for as long as one is
// pending, so a Node process waiting on the GPU spins a core at 100%. On a CPU adapter (SwiftShader) that core is
// taken from the rasterizer's own threads: measured 1.5-2x slower matmuls on 2 cores. dawn.node looks the global
// setImmediate up on every tick, so while we wait it gets a throttled one: immediate for the first millisecond
// (short waits stay short), then one tick per millisecond. Browsers have no such loop; there this is a no-op.

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof setImmediate === 'function';

let waiting = 0;
let since = 0;
let original: typeof setImmediate | null = null;

function throttled(this: unknown, fn: (...a: unknown[]) => void, ...args: unknown[]): unknown {
  if (performance.now() - since < 1) return original!(fn, ...args);
  return setTimeout(fn, 1, ...args);
}

/** Awaits a promise that the GPU settles, without the busy loop. Nested and concurrent waits are fine. */
export async function gpuWait<T>(p: Promise<T>): Promise<T> {
  if (!isNode) return p;
  if (waiting++ === 0) {
    original = globalThis.setImmediate;
    since = performance.now();
    globalThis.setImmediate = throttled as unknown as typeof setImmediate;
  }
  try {
    return await p;
  } finally {
    if (--waiting === 0) {
      globalThis.setImmediate = original!;
      original = null;
    }
  }
}
