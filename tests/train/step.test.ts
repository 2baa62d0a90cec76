// runMicroBatch runs pairs of unlike lengths in groups, each padded to its own longest (train/step.ts layoutGroups):
// the log-probs (in the pairs' order), loss, metrics and LoRA gradients are those of the whole micro-batch run as
// one layout, up to the order of float sums; in the shared-prompt layout and in the two-sequence one (each group two
// rows per pair), with the DPO reference pass too. With LoRA dropout, each group draws masks of its own.
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { loraModules, readLora } from '../../src/model/lora.ts';
import { cpoLoss, type LossConfig } from '../../src/train/losses.ts';
import { layoutBatch, layoutGroups, runMicroBatch } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { GOLDEN_DIR } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';
import { trainable } from '../util/trainable.ts';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

it.each([
  ['sigmoid', true],
  ['dpo', true],
  ['sigmoid', false],
] as const)('a micro-batch of unlike lengths runs in groups with the results of one layout (%s, shared prompt %s)', async (lossType, sharedPrompt) => {
  kernelEnv.step.sharedPrompt = sharedPrompt;
  const ctx = await gpu();
  const m = await trainable(ctx, resolve(GOLDEN_DIR, 'model'), 'q8_0', { r: 4, alpha: 8, dropout: 0, targets: 'all-linear', useRslora: false });
  const { cfg, lora, tf } = m;
  try {
    const rng = new Rng(31);
    for (const mod of loraModules(lora)) ctx.write(mod.B, Float32Array.from({ length: mod.N * lora.R }, () => rng.uniform(-0.1, 0.1)));
    const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(cfg.V - 3));
    // Three short pairs and two long ones, the long ones not last: a group holds pairs 1 and 3.
    const pairs = [4, 30, 5, 28, 3].map((n, i) => ({ promptIds: ids(n), chosenIds: ids(3 + (i % 3)), rejectedIds: ids(2 + (n % 4)) }));
    expect(layoutGroups(pairs, null, false).map((g) => g.index)).toEqual([[1, 3], [0, 2, 4]]);
    const lossCfg: LossConfig = { loss: lossType, beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 };
    const norm = { pairs: pairs.length, chosenTokens: pairs.reduce((a, p) => a + p.chosenIds.length, 0) };

    // The whole micro-batch as one layout, by hand.
    const batch = layoutBatch(pairs, false);
    expect(!!batch.shared).toBe(sharedPrompt);
    const B = pairs.length;
    const ref = lossType === 'dpo' ? (await tf.forward(batch, { useLora: false, dropoutSeed: null }, false)).seqLogp : null;
    const fwd = await tf.forward(batch, { useLora: true, dropoutSeed: null }, true);
    const whole = cpoLoss(pairs.map((p, i) => ({
      chosenSum: fwd.seqLogp[i], rejectedSum: fwd.seqLogp[B + i], chosenTokens: p.chosenIds.length, rejectedTokens: p.rejectedIds.length,
      refChosenSum: ref?.[i], refRejectedSum: ref?.[B + i],
    })), lossCfg, norm);
    await tf.backward(Float64Array.from([...whole.dChosen, ...whole.dRejected]), false);
    const wholeGrads = await readLora(ctx, lora, 'grads');

    const res = await runMicroBatch(tf, pairs, lossCfg, norm, { backward: true, accumulate: false, dropoutSeed: null });
    const grads = await readLora(ctx, lora, 'grads');
    expect(res.paddedTokens).toBeLessThan(batch.M);
    expect(maxDiff(res.logps.map((l) => l.chosenSum), fwd.seqLogp.subarray(0, B))).toBeLessThan(1e-4);
    expect(maxDiff(res.logps.map((l) => l.rejectedSum), fwd.seqLogp.subarray(B))).toBeLessThan(1e-4);
    expect(maxAbs(fwd.seqLogp)).toBeGreaterThan(1);
    if (ref) expect(maxDiff(res.logps.map((l) => l.refChosenSum!), ref.subarray(0, B))).toBeLessThan(1e-4);
    expect(res.logps.map((l) => l.chosenTokens)).toEqual(pairs.map((p) => p.chosenIds.length));
    expect(res.loss.loss).toBeCloseTo(whole.loss, 5);
    expect(res.loss.nll).toBeCloseTo(whole.nll, 5);
    expect(maxDiff(res.loss.dChosen, whole.dChosen)).toBeLessThan(1e-6);
    for (const k of Object.keys(whole.sums) as (keyof typeof whole.sums)[]) expect(res.loss.sums[k], k).toBeCloseTo(whole.sums[k], 4);
    for (const [name, g] of wholeGrads) {
      expect(maxAbs(g), name).toBeGreaterThan(0);
      expect(maxDiff(grads.get(name)!, g) / maxAbs(g), name).toBeLessThan(1e-5);
    }
  } finally {
    m.release();
    resetKernelEnv();
  }
}, 300_000);

it('each group of a micro-batch with LoRA dropout draws its own masks, the same at every replay', () => {
  const rng = new Rng(5);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(500));
  const pairs = [4, 30, 5, 28].map((n) => ({ promptIds: ids(n), chosenIds: ids(3), rejectedIds: ids(2) }));
  const groups = layoutGroups(pairs, 77, true);
  expect(groups.map((g) => g.batch.shared)).toEqual([undefined, undefined]); // dropout: two sequences per pair
  expect(groups[0].dropoutSeed).toBe(77); // the first group's masks are those of the micro-batch unsplit
  expect(groups[1].dropoutSeed).not.toBe(77);
  expect(layoutGroups(pairs, 77, true).map((g) => g.dropoutSeed)).toEqual(groups.map((g) => g.dropoutSeed));
  expect(layoutGroups(pairs, null, true).map((g) => g.dropoutSeed)).toEqual([null, null]);
});
