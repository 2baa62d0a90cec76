import { describe, it } from 'vitest';
import { adamwStep, type AdamHyper } from '../../src/kernels/adamw/adamw.ts';
import { adamwStepRef } from '../../src/kernels/adamw/adamw.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

describe('adamw', () => {
  for (const [n, scaled, wd] of [[1, false, 0], [1000, true, 0.01], [70001, true, 0.1], [257, false, 0.05]] as [number, boolean, number][]) {
    it(`5 steps against torch's formula, n=${n}${scaled ? ' with grad scale' : ''} wd=${wd}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(n);
      const p0 = rng.randn(n, 0.02);
      const ref = { p: Float64Array.from(p0), m: new Float64Array(n), v: new Float64Array(n) };
      const param = ctx.upload('param', p0);
      const m = ctx.upload('m', new Float32Array(n));
      const v = ctx.upload('v', new Float32Array(n));
      const grad = ctx.buffer('grad', n * 4);
      const scale = ctx.buffer('scale', 4);
      for (let step = 1; step <= 5; step++) {
        // A decaying schedule and gradients of shifting scale, some steps clipped.
        const hp: AdamHyper = { lr: 1e-3 * (1 - step / 10), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, step };
        const g = rng.randn(n, 10 ** -(step % 3));
        const s = scaled ? [1, 0.37, 1, 0.05, 0.9][step - 1] : 1;
        ctx.write(grad, g);
        ctx.write(scale, new Float32Array([s]));
        const rec = ctx.recorder();
        adamwStep(rec, param, grad, m, v, n, hp, scaled ? scale : null);
        await rec.submit();
        adamwStepRef(ref.p, g, ref.m, ref.v, hp, Math.fround(s));
        // β·m + (1−β)·g cancels where g opposes m: f32 error is relative to the vector's scale, not the element.
        const scaleOf = (a: Float64Array) => a.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
        expectClose(await ctx.readF32(m, n), ref.m, 1e-6 * scaleOf(ref.m), 1e-5, `m step ${step}`);
        expectClose(await ctx.readF32(v, n), ref.v, 1e-6 * scaleOf(ref.v), 1e-5, `v step ${step}`);
        expectClose(await ctx.readF32(param, n), ref.p, 1e-6 * scaleOf(ref.p), 1e-5, `param step ${step}`);
      }
      [param, m, v, grad, scale].forEach((b) => ctx.release(b));
    });
  }
});
