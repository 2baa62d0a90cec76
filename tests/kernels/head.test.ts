import { afterAll, describe, expect, it } from 'vitest';
import { kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { outputHeadBackward, outputHeadForward, type HeadTuning } from '../../src/kernels/head/head.ts';
import { outputHeadBackwardRef, outputHeadForwardRef } from '../../src/kernels/head/head.ref.ts';
import { bytesPerRow, decodeWeight, encodeWeight, type WeightType } from '../../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

type HeadTuningOverride = Partial<HeadTuning>;

const POISON = 0x7fc00000 | 0xdead;

afterAll(resetKernelEnv);

/** S distinct rows out of M, in random order (the model's unmasked positions need not be sorted). */
function pickRows(rng: Rng, M: number, S: number): Uint32Array {
  return Uint32Array.from(rng.shuffle([...Array(M).keys()]).slice(0, S));
}

describe('output head', () => {
  it('reference backward matches finite differences', () => {
    const rng = new Rng(7);
    const [M, S, V, C] = [5, 3, 41, 8];
    const h = Float64Array.from(rng.randn(M * C));
    const W = Float64Array.from(rng.randn(V * C, 0.5));
    const rows = pickRows(rng, M, S);
    const labels = Uint32Array.from({ length: S }, () => rng.int(V));
    const dlogp = Float64Array.from(rng.randn(S));
    const dh = outputHeadBackwardRef(dlogp, h, rows, labels, W, M, V, C);
    const f = (x: Float64Array) => dot(dlogp, outputHeadForwardRef(x, rows, labels, W, V, C).logp);
    expectClose(numericGrad(f, h), dh, 1e-8, 1e-6, 'dh');
  });

  // [S, V, C, type, rows per part (0: one part)]; parts are deliberately not multiples of the chunk.
  const cases: [number, number, number, WeightType, number][] = [];
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as WeightType[]) {
    cases.push([1, 1000, 64, type, 0], [7, 2053, 96, type, 0], [33, 1000, 96, type, 300]);
    // C % 8 == 4: the backward's last group of 8 columns is half a group.
    if (type === 'f32' || type === 'f16') cases.push([6, 517, 36, type, 0]);
  }
  cases.push([20, 2053, 64, 'q8_0', 777]);

  // Odd tilings: several chunks per backward split, positions per workgroup not dividing S, small chunks.
  // odd2: two groups of 8 columns per thread in the backward, the second only partly used (C/8 = 12 < 2 * 8).
  const odd: Record<string, HeadTuningOverride> = {
    odd: { wg: 32, sbFwd: 5, bwdTile: 3, bwdTarget: 2 },
    odd2: { wg: 8, sbFwd: 3, bwdTile: 4, bwdTarget: 3 },
    // The forward's 4-row logits tile (the GPU tuning's) on the f32 and f16 paths, which 'gpu' does not run.
    vpt4: { vptFwd: 4 },
  };
  for (const variant of ['cpu', 'gpu', 'odd', 'odd2', 'vpt4'] as const) {
    for (const [S, V, C, type, partRows] of cases) {
      // The other tunings only change tile and split counts: a few shapes are enough to cover them.
      if (variant === 'gpu' && !(type === 'q4_0' && S !== 1)) continue;
      if (variant === 'odd' && !(type === 'q8_0' && S >= 20)) continue;
      if (variant === 'odd2' && !(type === 'q4_0' && C === 96)) continue;
      if (variant === 'vpt4' && !((type === 'f32' || type === 'f16') && S === 7)) continue;
      it(`${variant}: S=${S} V=${V} C=${C} ${type}${partRows ? ` parts of ${partRows} rows` : ''}`, async () => {
        if (variant === 'odd' || variant === 'odd2' || variant === 'vpt4') Object.assign(kernelEnv.head, { variant: 'cpu', tuning: odd[variant] });
        else Object.assign(kernelEnv.head, { variant, tuning: {} });
        const ctx = await gpu();
        const rng = new Rng(S * 1000 + V + C);
        const M = S + 5;
        const hv = rng.randn(M * C);
        const wf = rng.randn(V * C, 0.3);
        const bytes = encodeWeight(type, wf, V, C);
        const W = decodeWeight(type, bytes, V, C);
        const w = uploadWeight(ctx, 'wlm', type, bytes, V, C, partRows ? partRows * bytesPerRow(type, C) : undefined);
        expect(w.parts.length).toBe(partRows ? Math.ceil(V / partRows) : 1);
        const rows = pickRows(rng, M, S);
        // Labels at both ends of the vocabulary and of each part exercise the chunk masks.
        const labels = Uint32Array.from({ length: S }, (_, s) => (s === 0 ? V - 1 : s === 1 ? 0 : rng.int(V)));
        const dlogp = rng.randn(S);
        const bh = ctx.upload('h', hv);
        const brows = ctx.upload('rows', rows);
        const blabels = ctx.upload('labels', labels);
        const bdlogp = ctx.upload('dlogp', dlogp);
        const [logp, lse, lsum] = ['logp', 'lse', 'logitSum'].map((l) => ctx.buffer(l, S * 4));
        const dh = ctx.buffer('dh', M * C * 4);
        [logp, lse, lsum, dh].forEach((b) => ctx.poison(b));
        const rec = ctx.recorder();
        outputHeadForward(rec, logp, lse, lsum, bh, brows, blabels, w, S);
        outputHeadBackward(rec, dh, bdlogp, bh, brows, blabels, lse, w, S);
        await rec.submit();

        const ref = outputHeadForwardRef(hv, rows, labels, W, V, C);
        expectClose(await ctx.readF32(lse, S), ref.lse, 1e-5, 1e-5, 'lse');
        expectClose(await ctx.readF32(logp, S), ref.logp, 1e-5, 1e-5, 'logp');
        // Σ over V logits of O(1) cancels: the error scales with Σ|logit|, not with the result.
        expectClose(await ctx.readF32(lsum, S), ref.logitSum, 2e-3, 1e-4, 'logitSum');

        const dref = outputHeadBackwardRef(dlogp, hv, rows, labels, W, M, V, C);
        const got = await ctx.readF32(dh, M * C);
        const gotBits = new Uint32Array(got.buffer);
        const inRows = new Set(rows);
        const sel: number[] = [];
        const want: number[] = [];
        for (let r = 0; r < M; r++) {
          for (let c = 0; c < C; c++) {
            const i = r * C + c;
            if (inRows.has(r)) {
              sel.push(got[i]);
              want.push(dref[i]);
            } else if (gotBits[i] !== POISON) {
              expect.fail(`dh row ${r} is not in rows but was written`);
            }
          }
        }
        expectClose(sel, want, 1e-5, 1e-4, 'dh');
        [bh, brows, blabels, bdlogp, logp, lse, lsum, dh].forEach((b) => ctx.release(b));
        releaseWeight(ctx, w);
      });
    }
  }
});
