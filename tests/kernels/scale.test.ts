import { describe, it } from 'vitest';
import { scaleForward } from '../../src/kernels/scale/scale.ts';
import { scaleRef } from '../../src/kernels/scale/scale.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { checkOp } from './op.ts';

describe('scale', () => {
  for (const n of [1, 255, 257, 64 * 33 + 3])
    for (const accumulate of [false, true]) {
      it(`y ${accumulate ? '+' : ''}= alpha·x matches the reference, N=${n}`, async () => {
        const rng = new Rng(n + (accumulate ? 1 : 0));
        const x = rng.randn(n);
        const y0 = rng.randn(n);
        const alpha = 25.25;
        await checkOp({
          inputs: { x },
          outputs: { y: accumulate ? y0 : n }, // poisoned unless the kernel adds into it
          run: (rec, b) => scaleForward(rec, b.y, b.x, alpha, n, accumulate),
          want: { y: { ref: scaleRef(x, alpha, accumulate ? y0 : null), atol: 1e-6, rtol: 1e-6 } },
        });
      });
    }
});
