import { describe, it } from 'vitest';
import { adamwStep, type AdamHyper } from '../../src/kernels/adamw/adamw.ts';
import { adamwStepRef } from '../../src/kernels/adamw/adamw.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { checkOp } from './op.ts';

// β·m + (1−β)·g cancels where g opposes m: f32 error is relative to the vector's scale, not the element.
const near = (ref: Float64Array) => ({ ref: Float64Array.from(ref), atol: 1e-6 * ref.reduce((x, y) => Math.max(x, Math.abs(y)), 0), rtol: 1e-5 });

describe('adamw', () => {
  for (const [n, scaled, wd] of [[1, false, 0], [1000, true, 0.01], [70001, true, 0.1], [257, false, 0.05]] as [number, boolean, number][]) {
    it(`5 steps against torch's formula, n=${n}${scaled ? ' with grad scale' : ''} wd=${wd}`, async () => {
      const rng = new Rng(n);
      const p0 = rng.randn(n, 0.02);
      const ref = { p: Float64Array.from(p0), m: new Float64Array(n), v: new Float64Array(n) };
      // A decaying schedule and gradients of shifting scale, some steps clipped.
      const hp = (step: number): AdamHyper => ({ lr: 1e-3 * (1 - step / 10), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, step });
      const g = [1, 2, 3, 4, 5].map((step) => rng.randn(n, 10 ** -(step % 3)));
      const s = (step: number) => (scaled ? [1, 0.37, 1, 0.05, 0.9][step - 1] : 1);
      await checkOp({
        inputs: { grad: new Float32Array(n), scale: [0] }, // written before each step
        outputs: { param: p0, m: new Float32Array(n), v: new Float32Array(n) },
        steps: 5,
        run: (rec, b, ctx, step) => {
          ctx.write(b.grad, g[step - 1]);
          ctx.write(b.scale, new Float32Array([s(step)]));
          adamwStep(rec, b.param, b.grad, b.m, b.v, n, hp(step), scaled ? b.scale : null);
        },
        want: (_, step) => {
          adamwStepRef(ref.p, g[step - 1], ref.m, ref.v, hp(step), Math.fround(s(step)));
          return { m: near(ref.m), v: near(ref.v), param: near(ref.p) };
        },
      });
    });
  }
});
