import { describe, it } from 'vitest';
import { gegluBackward, gegluForward } from '../../src/kernels/geglu/geglu.ts';
import { gegluBackwardRef, gegluForwardRef } from '../../src/kernels/geglu/geglu.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

describe('geglu', () => {
  it('reference backward matches finite differences', () => {
    const rng = new Rng(1);
    const n = 37;
    const g = Float64Array.from(rng.randn(n, 2));
    const u = Float64Array.from(rng.randn(n));
    const w = Float64Array.from(rng.randn(n));
    const { dg, du } = gegluBackwardRef(w, g, u);
    expectClose(numericGrad((x) => dot(w, gegluForwardRef(x, u)), g), dg, 1e-8, 1e-6, 'dg');
    expectClose(numericGrad((x) => dot(w, gegluForwardRef(g, x)), u), du, 1e-8, 1e-6, 'du');
  });

  for (const n of [1, 255, 257, 4864 * 3 + 5]) {
    it(`forward and backward match the reference, N=${n}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(n);
      // A spread that reaches the tails (|k| > 10: tanh saturates) and the middle.
      const g = rng.randn(n, 3).map((v, i) => (i % 17 === 0 ? v * 8 : v));
      const u = rng.randn(n);
      const dy = rng.randn(n);
      const [bg, bu, bdy] = [g, u, dy].map((a, i) => ctx.upload(`in${i}`, a));
      const [y, dg, du] = ['y', 'dg', 'du'].map((l) => ctx.buffer(l, n * 4));
      [y, dg, du].forEach((b) => ctx.poison(b));
      const rec = ctx.recorder();
      gegluForward(rec, y, bg, bu, n);
      gegluBackward(rec, dg, du, bdy, bg, bu, n);
      await rec.submit();
      const ref = gegluBackwardRef(dy, g, u);
      expectClose(await ctx.readF32(y, n), gegluForwardRef(g, u), 1e-6, 1e-5, 'y');
      expectClose(await ctx.readF32(dg, n), ref.dg, 1e-6, 1e-5, 'dg');
      expectClose(await ctx.readF32(du, n), ref.du, 1e-6, 1e-5, 'du');
      [bg, bu, bdy, y, dg, du].forEach((b) => ctx.release(b));
    });
  }
});
