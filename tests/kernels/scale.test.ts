import { describe, it } from 'vitest';
import { scaleForward } from '../../src/kernels/scale/scale.ts';
import { scaleRef } from '../../src/kernels/scale/scale.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

describe('scale', () => {
  for (const n of [1, 255, 257, 64 * 33 + 3])
    for (const accumulate of [false, true]) {
      it(`y ${accumulate ? '+' : ''}= alpha·x matches the reference, N=${n}`, async () => {
        const ctx = await gpu();
        const rng = new Rng(n + (accumulate ? 1 : 0));
        const x = rng.randn(n);
        const y0 = rng.randn(n);
        const alpha = 25.25;
        const [bx, by] = [ctx.upload('x', x), ctx.upload('y', y0)];
        if (!accumulate) ctx.poison(by);
        const rec = ctx.recorder();
        scaleForward(rec, by, bx, alpha, n, accumulate);
        await rec.submit();
        expectClose(await ctx.readF32(by, n), scaleRef(x, alpha, accumulate ? y0 : null), 1e-6, 1e-6, 'y');
        [bx, by].forEach((b) => ctx.release(b));
      });
    }
});
