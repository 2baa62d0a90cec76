import { describe, it } from 'vitest';
import { swigluBackward, swigluForward } from '../../src/kernels/swiglu/swiglu.ts';
import { swigluBackwardRef, swigluForwardRef } from '../../src/kernels/swiglu/swiglu.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

describe('swiglu', () => {
  it('reference backward matches finite differences', () => {
    const rng = new Rng(1);
    const n = 37;
    const g = Float64Array.from(rng.randn(n, 2));
    const u = Float64Array.from(rng.randn(n));
    const w = Float64Array.from(rng.randn(n));
    const { dg, du } = swigluBackwardRef(w, g, u);
    expectClose(numericGrad((x) => dot(w, swigluForwardRef(x, u)), g), dg, 1e-8, 1e-6, 'dg');
    expectClose(numericGrad((x) => dot(w, swigluForwardRef(g, x)), u), du, 1e-8, 1e-6, 'du');
  });

  for (const n of [1, 255, 257, 4864 * 3 + 5]) {
    it(`forward and backward match the reference, N=${n}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(n);
      const g = rng.randn(n, 3);
      const u = rng.randn(n);
      const dy = rng.randn(n);
      const [bg, bu, bdy] = [g, u, dy].map((a, i) => ctx.upload(`in${i}`, a));
      const [y, dg, du] = ['y', 'dg', 'du'].map((l) => ctx.buffer(l, n * 4));
      [y, dg, du].forEach((b) => ctx.poison(b));
      const rec = ctx.recorder();
      swigluForward(rec, y, bg, bu, n);
      swigluBackward(rec, dg, du, bdy, bg, bu, n);
      await rec.submit();
      const ref = swigluBackwardRef(dy, g, u);
      expectClose(await ctx.readF32(y, n), swigluForwardRef(g, u), 1e-6, 1e-5, 'y');
      expectClose(await ctx.readF32(dg, n), ref.dg, 1e-6, 1e-5, 'dg');
      expectClose(await ctx.readF32(du, n), ref.du, 1e-6, 1e-5, 'du');
    });
  }
});
