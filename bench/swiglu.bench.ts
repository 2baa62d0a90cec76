import type { GpuContext } from '../src/gpu/context.ts';
import { swigluBackward, swigluForward } from '../src/kernels/swiglu/swiglu.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const n = o.tokens * QWEN05.F;
  const rng = new Rng(0);
  const [g, u, dy] = [0, 1, 2].map((i) => ctx.upload(`b${i}`, rng.randn(n)));
  const [y, dg, du] = [0, 1, 2].map((i) => ctx.buffer(`o${i}`, n * 4));
  const dispose = () => [g, u, dy, y, dg, du].forEach((b) => ctx.release(b));
  return [
    { name: `swiglu fwd N=${o.tokens}x${QWEN05.F}`, bytes: 12 * n, record: (rec) => swigluForward(rec, y, g, u, n) },
    { name: `swiglu bwd N=${o.tokens}x${QWEN05.F}`, bytes: 20 * n, record: (rec) => swigluBackward(rec, dg, du, dy, g, u, n), dispose },
  ];
}
