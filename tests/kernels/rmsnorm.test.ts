import { afterEach, describe, it } from 'vitest';
import { kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { rmsnormBackward, rmsnormForward } from '../../src/kernels/rmsnorm/rmsnorm.ts';
import { rmsnormBackwardRef, rmsnormForwardRef } from '../../src/kernels/rmsnorm/rmsnorm.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

afterEach(resetKernelEnv);

describe('rmsnorm', () => {
  it('reference backward matches finite differences', () => {
    const [M, C, eps] = [3, 7, 1e-6];
    const rng = new Rng(2);
    const x = toF64(rng.randn(M * C));
    const w = toF64(rng.randn(C));
    const dy = toF64(rng.randn(M * C));
    const dx = rmsnormBackwardRef(dy, x, w, M, C, eps);
    expectClose(numericGrad((v) => dot(dy, rmsnormForwardRef(v, w, M, C, eps).y), x), dx, 1e-8, 1e-6, 'dx');
  });

  const shapes: [number, number][] = [[1, 1], [3, 63], [7, 65], [5, 896], [2, 4867]];
  for (const layout of ['serial', 'workgroup'] as const)
    for (const [M, C] of shapes)
      for (const accumulate of [false, true]) {
        it(`forward and backward match the reference, ${layout} M=${M} C=${C} accumulate=${accumulate}`, async () => {
          const ctx = await gpu();
          kernelEnv.rmsnorm.layout = layout;
          const rng = new Rng(M * 131 + C);
          const eps = 1e-6;
          // An offset mean and a spread of row scales: rstd varies by 100x between rows.
          const x = rng.randn(M * C).map((v, i) => (v + 0.5) * 10 ** ((Math.floor(i / C) % 3) - 1));
          const w = rng.randn(C).map((v) => 1 + 0.3 * v);
          const dy = rng.randn(M * C);
          const dx0 = rng.randn(M * C);
          const [bx, bw, bdy, bdx] = [x, w, dy, dx0].map((a, i) => ctx.upload(`in${i}`, a));
          const [by, brstd] = [ctx.buffer('y', M * C * 4), ctx.buffer('rstd', M * 4)];
          ctx.poison(by);
          ctx.poison(brstd);
          if (!accumulate) ctx.poison(bdx);
          const rec = ctx.recorder();
          rmsnormForward(rec, by, brstd, bx, bw, M, C, eps);
          rmsnormBackward(rec, bdx, bdy, bx, bw, brstd, M, C, accumulate);
          await rec.submit();
          const ref = rmsnormForwardRef(x, w, M, C, eps);
          const dref = rmsnormBackwardRef(dy, x, w, M, C, eps);
          expectClose(await ctx.readF32(brstd, M), ref.rstd, 0, 1e-5, 'rstd');
          expectClose(await ctx.readF32(by, M * C), ref.y, 1e-6, 1e-5, 'y');
          // dx's two terms cancel; scale atol by the row's rstd·|w|·|dy| magnitude.
          const want = accumulate ? dref.map((v, i) => v + dx0[i]) : dref;
          const atol = 1e-5 * Math.max(...ref.rstd);
          expectClose(await ctx.readF32(bdx, M * C), want, atol, 1e-4, 'dx');
          [bx, bw, bdy, bdx, by, brstd].forEach((b) => ctx.release(b));
        });
      }
});
