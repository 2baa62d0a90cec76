import type { GpuContext } from '../src/gpu/context.ts';
import { rmsnormBackward, rmsnormForward } from '../src/kernels/rmsnorm/rmsnorm.ts';
import { ropeBackward, ropeForward, ropeInvFreq } from '../src/kernels/rope/rope.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const { C, H, D } = QWEN05;
  const M = o.tokens;
  const rng = new Rng(0);
  const x = ctx.upload('x', rng.randn(M * C)); // (M, C) f32
  const w = ctx.upload('w', rng.randn(C)); // (C) f32
  const dy = ctx.upload('dy', rng.randn(M * C)); // (M, C) f32
  const y = ctx.buffer('y', M * C * 4); // (M, C) f32
  const dx = ctx.buffer('dx', M * C * 4); // (M, C) f32
  const rstd = ctx.buffer('rstd', M * 4); // (M) f32
  const q = ctx.upload('q', rng.randn(M * H * D)); // (M, H*D) f32
  const inv = ctx.upload('inv', ropeInvFreq(D, 1e6)); // (D/2) f32
  const dispose = () => [x, w, dy, y, dx, rstd, q, inv].forEach((b) => ctx.release(b));
  const n = M * C;
  return [
    { name: `rmsnorm fwd ${M}x${C}`, bytes: 8 * n, reps: 10, record: (rec) => rmsnormForward(rec, y, rstd, x, w, M, C, 1e-6) },
    { name: `rmsnorm bwd ${M}x${C} accumulate`, bytes: 16 * n, reps: 10, record: (rec) => rmsnormBackward(rec, dx, dy, x, w, rstd, M, C, true) },
    { name: `rope fwd ${M}x${H}x${D}`, bytes: 8 * M * H * D, reps: 10, record: (rec) => ropeForward(rec, q, inv, M, M, H, D) },
    { name: `rope bwd ${M}x${H}x${D}`, bytes: 8 * M * H * D, reps: 10, record: (rec) => ropeBackward(rec, q, inv, M, M, H, D), dispose },
  ];
}
