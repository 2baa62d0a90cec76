import { describe, expect, it } from 'vitest';
import { outputHeadBackward, outputHeadForward } from '../../src/kernels/head/head.ts';
import { outputHeadBackwardRef, outputHeadForwardRef } from '../../src/kernels/head/head.ref.ts';
import { bytesPerRow, decodeWeight, encodeWeight, type WeightType } from '../../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp, checkRefGrad, eachVariant, type EnvPatch } from './op.ts';

/** S distinct rows out of M, in random order (the model's unmasked positions need not be sorted). */
function pickRows(rng: Rng, M: number, S: number): Uint32Array {
  return Uint32Array.from(rng.shuffle([...Array(M).keys()]).slice(0, S));
}

describe('output head', () => {
  it('reference backward matches finite differences', () => {
    const rng = new Rng(7);
    const [M, S, V, C] = [5, 3, 41, 8];
    const h = toF64(rng.randn(M * C));
    const W = toF64(rng.randn(V * C, 0.5));
    const rows = pickRows(rng, M, S);
    const labels = Uint32Array.from({ length: S }, () => rng.int(V));
    const dlogp = toF64(rng.randn(S));
    const f = (x: Float64Array) => dot(dlogp, outputHeadForwardRef(x, rows, labels, W, V, C).logp);
    const { dir } = outputHeadForwardRef(h, rows, labels, W, V, C, true);
    checkRefGrad('dh', f, h, outputHeadBackwardRef(dlogp, rows, dir, M, C));
  });

  // [S, V, C, type, rows per part (0: one part)]; parts are deliberately not multiples of the chunk.
  const cases: [number, number, number, WeightType, number][] = [];
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as WeightType[]) {
    cases.push([1, 1000, 64, type, 0], [7, 2053, 96, type, 0], [33, 1000, 96, type, 300]);
    // C % 8 == 4: the backward's last group of 8 columns is half a group.
    if (type === 'f32' || type === 'f16') cases.push([6, 517, 36, type, 0]);
  }
  cases.push([20, 2053, 64, 'q8_0', 777]);

  // The two tuning sets, and odd tilings: several chunks per training-forward split (the online softmax rescales
  // its Σ exp·W accumulators from chunk to chunk), positions per workgroup not dividing S (6 in the training
  // forward, whose probabilities sit four positions to a vec4: the second half used), small chunks. odd2: two
  // groups of 8 columns per thread in the Σ softmax·W accumulator, the second only partly used (C/8 = 12 < 2 * 8).
  // vpt4: the forward's 4-row logits tile (the GPU tuning's) on the f32 and f16 paths, which 'gpu' does not run.
  // The training forward takes at most as many threads as C has groups of 8 columns: C 36 and 64 run it narrower.
  const variants: Record<string, EnvPatch> = {
    cpu: { head: { variant: 'cpu', tuning: {} } },
    gpu: { head: { variant: 'gpu', tuning: {} } },
    odd: { head: { variant: 'cpu', tuning: { wg: 32, wgFwd: 32, sbFwd: 5, gradTile: 12, gradTarget: 2 } } },
    odd2: { head: { variant: 'cpu', tuning: { wg: 8, wgFwd: 8, sbFwd: 3, gradTile: 4, gradTarget: 3 } } },
    vpt4: { head: { variant: 'cpu', tuning: { vptFwd: 4 } } },
    // The training forward's 8-row logits tile (its second weight matrix), over several chunks per split.
    vpt8: { head: { variant: 'cpu', tuning: { vptGrad: 8, gradTarget: 2 } } },
  };
  // The other tunings only change tile and split counts: a few shapes are enough to cover them.
  const runs = (variant: string, S: number, C: number, type: WeightType) =>
    variant === 'cpu' || (variant === 'gpu' && type === 'q4_0' && S !== 1) || (variant === 'odd' && type === 'q8_0' && S >= 20)
    || (variant === 'odd2' && type === 'q4_0' && C === 96) || (variant === 'vpt4' && (type === 'f32' || type === 'f16') && S === 7)
    || (variant === 'vpt8' && S === 33 && (type === 'f32' || type === 'q4_0'));

  for (const [S, V, C, type, partRows] of cases) {
    const forced = Object.fromEntries(Object.entries(variants).filter(([v]) => runs(v, S, C, type)));
    eachVariant(forced, `S=${S} V=${V} C=${C} ${type}${partRows ? ` parts of ${partRows} rows` : ''}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(S * 1000 + V + C);
      const M = S + 5;
      const h = rng.randn(M * C);
      const bytes = encodeWeight(type, rng.randn(V * C, 0.3), V, C);
      const W = decodeWeight(type, bytes, V, C);
      const w = uploadWeight(ctx, 'wlm', type, bytes, V, C, partRows ? partRows * bytesPerRow(type, C) : undefined);
      expect(w.parts.length).toBe(partRows ? Math.ceil(V / partRows) : 1);
      const rows = pickRows(rng, M, S);
      // Labels at both ends of the vocabulary and of each part exercise the chunk masks.
      const labels = Uint32Array.from({ length: S }, (_, s) => (s === 0 ? V - 1 : s === 1 ? 0 : rng.int(V)));
      const dlogp = rng.randn(S);
      const ref = outputHeadForwardRef(h, rows, labels, W, V, C, true);
      const inRows = new Set(rows);
      // The same statistics from the forward-only pass (…1) and the training forward (…2), which also leaves dir.
      const stats = { ref: ref.lse, atol: 1e-5, rtol: 1e-5 };
      const logps = { ref: ref.logp, atol: 1e-5, rtol: 1e-5 };
      // Σ over V logits of O(1) cancels: the error scales with Σ|logit|, not with the result.
      const sums = { ref: ref.logitSum, atol: 2e-3, rtol: 1e-4 };
      try {
        await checkOp({
          inputs: { h, rows, labels, dlogp },
          outputs: { logp1: S, lse1: S, logitSum1: S, logp2: S, lse2: S, logitSum2: S, dir: S * C, dh: M * C },
          run: (rec, b) => {
            outputHeadForward(rec, b.logp1, b.lse1, b.logitSum1, b.h, b.rows, b.labels, w, S);
            outputHeadForward(rec, b.logp2, b.lse2, b.logitSum2, b.h, b.rows, b.labels, w, S, b.dir);
            outputHeadBackward(rec, b.dh, b.dlogp, b.rows, b.dir, S, C);
          },
          want: {
            lse1: stats, logp1: logps, logitSum1: sums, lse2: stats, logp2: logps, logitSum2: sums,
            dir: { ref: ref.dir, atol: 1e-5, rtol: 1e-4 },
            // Rows not picked get no gradient and must not be written at all.
            dh: { ref: outputHeadBackwardRef(dlogp, rows, ref.dir, M, C), atol: 1e-5, rtol: 1e-4, untouched: (i) => !inRows.has(Math.floor(i / C)) },
          },
        });
      } finally {
        releaseWeight(ctx, w);
      }
      // A type's first case compiles its pipelines: over a minute on a busy 2-core SwiftShader.
    }, 300_000);
  }
});
