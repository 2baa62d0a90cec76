import { describe, it } from 'vitest';
import { swigluBackward, swigluForward } from '../../src/kernels/swiglu/swiglu.ts';
import { swigluBackwardRef, swigluForwardRef } from '../../src/kernels/swiglu/swiglu.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot } from '../util/check.ts';
import { checkOp, checkRefGrad } from './op.ts';

describe('swiglu', () => {
  it('reference backward matches finite differences', () => {
    const rng = new Rng(1);
    const n = 37;
    const g = Float64Array.from(rng.randn(n, 2));
    const u = Float64Array.from(rng.randn(n));
    const w = Float64Array.from(rng.randn(n));
    const { dg, du } = swigluBackwardRef(w, g, u);
    checkRefGrad('dg', (x) => dot(w, swigluForwardRef(x, u)), g, dg);
    checkRefGrad('du', (x) => dot(w, swigluForwardRef(g, x)), u, du);
  });

  for (const n of [1, 255, 257, 4864 * 3 + 5]) {
    it(`forward and backward match the reference, N=${n}`, async () => {
      const rng = new Rng(n);
      const [g, u, dy] = [rng.randn(n, 3), rng.randn(n), rng.randn(n)];
      const ref = swigluBackwardRef(dy, g, u);
      await checkOp({
        inputs: { g, u, dy },
        outputs: { y: n, dg: n, du: n },
        run: (rec, b) => {
          swigluForward(rec, b.y, b.g, b.u, n);
          swigluBackward(rec, b.dg, b.du, b.dy, b.g, b.u, n);
        },
        want: { y: { ref: swigluForwardRef(g, u), atol: 1e-6, rtol: 1e-5 }, dg: { ref: ref.dg, atol: 1e-6, rtol: 1e-5 }, du: { ref: ref.du, atol: 1e-6, rtol: 1e-5 } },
      });
    });
  }
});
