import { describe, it } from 'vitest';
import { gegluBackward, gegluForward } from '../../src/kernels/geglu/geglu.ts';
import { gegluBackwardRef, gegluForwardRef } from '../../src/kernels/geglu/geglu.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { checkOp, checkRefGrad } from './op.ts';

describe('geglu', () => {
  it('reference backward matches finite differences', () => {
    const rng = new Rng(1);
    const n = 37;
    const g = toF64(rng.randn(n, 2));
    const u = toF64(rng.randn(n));
    const w = toF64(rng.randn(n));
    const { dg, du } = gegluBackwardRef(w, g, u);
    checkRefGrad('dg', (x) => dot(w, gegluForwardRef(x, u)), g, dg);
    checkRefGrad('du', (x) => dot(w, gegluForwardRef(g, x)), u, du);
  });

  for (const n of [1, 255, 257, 4864 * 3 + 5]) {
    it(`forward and backward match the reference, N=${n}`, async () => {
      const rng = new Rng(n);
      // A spread that reaches the tails (|k| > 10: tanh saturates) and the middle.
      const g = rng.randn(n, 3).map((v, i) => (i % 17 === 0 ? v * 8 : v));
      const [u, dy] = [rng.randn(n), rng.randn(n)];
      const ref = gegluBackwardRef(dy, g, u);
      await checkOp({
        inputs: { g, u, dy },
        outputs: { y: n, dg: n, du: n },
        run: (rec, b) => {
          gegluForward(rec, b.y, b.g, b.u, n);
          gegluBackward(rec, b.dg, b.du, b.dy, b.g, b.u, n);
        },
        want: { y: { ref: gegluForwardRef(g, u), atol: 1e-6, rtol: 1e-5 }, dg: { ref: ref.dg, atol: 1e-6, rtol: 1e-5 }, du: { ref: ref.du, atol: 1e-6, rtol: 1e-5 } },
      });
    });
  }
});
