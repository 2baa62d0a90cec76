// One micro-batch of preference pairs through the model: log-probs, the CPO-family loss, and (optionally)
// the LoRA gradients. The loss itself is computed on the host in float64 from 2B scalars read back.
// The pairs run in the shared-prompt layout (each prompt once, model/batch.ts) unless kernelEnv.step says
// otherwise or LoRA dropout is on (TRL draws a separate mask for each copy of the prompt).
// A micro-batch runs in groups of similar length (model/batch.ts lengthGroups), one after another, each padded only to
// its own longest; the loss is per pair and normalised by the whole batch, so the groups' gradients add up to the
// micro-batch's (as micro-batches add up to a batch).
import { kernelEnv } from '../kernels/env.ts';
import { hash32 } from '../kernels/lora/lora.ts';
import { lengthGroups, layoutPairs, layoutSharedPrompt, pairLengths, pairTokens, type PairIds, type SequenceBatch } from '../model/batch.ts';
import type { Transformer } from '../model/transformer.ts';
import { cpoLoss, type LossConfig, type LossNormalizer, type LossResult, type PairLogps } from './losses.ts';

export interface MicroBatchResult {
  logps: PairLogps[];
  loss: LossResult;
  /** Σ of raw logits over chosen / rejected completion positions, and the counts (for logits/* metrics). */
  logitSums: { chosen: number; rejected: number; chosenPositions: number; rejectedPositions: number };
  /** Real (non-padding) tokens of the pairs as two sequences each (the prompt twice), whichever layout ran. */
  tokens: number;
  /** Real tokens the layers ran: `tokens`, less one prompt per pair (but its last token) in the shared-prompt layout. */
  rowTokens: number;
  paddedTokens: number; // rows the layers ran, padding included
}

/** Whether runMicroBatch runs each prompt once (dropout: whether this pass draws LoRA dropout masks). */
export function usesSharedPrompt(dropout: boolean): boolean {
  return kernelEnv.step.sharedPrompt && !dropout;
}

/** These pairs in one layout, as runMicroBatch lays out each of its groups (dropout: whether this pass draws LoRA dropout masks). */
export function layoutBatch(pairs: PairIds[], dropout: boolean): SequenceBatch {
  return usesSharedPrompt(dropout) ? layoutSharedPrompt(pairs, 0) : layoutPairs(pairs, 0);
}

/** A group of a micro-batch as runMicroBatch runs it: its pairs' indices (ascending), layout and dropout seed. */
export interface LayoutGroup {
  index: number[];
  batch: SequenceBatch;
  dropoutSeed: number | null;
}

/** The groups runMicroBatch runs these pairs in (dropoutSeed: the micro-batch's; null: no dropout masks drawn). */
export function layoutGroups(pairs: PairIds[], dropoutSeed: number | null, loraDropout: boolean): LayoutGroup[] {
  const dropout = loraDropout && dropoutSeed !== null;
  const shared = usesSharedPrompt(dropout);
  return lengthGroups(pairLengths(pairs, shared), shared ? 1 : 2).map((index, k) => {
    const group = index.map((i) => pairs[i]);
    // Each group draws its own masks: with the micro-batch's seed, rows at the same place in two groups would share them.
    const seed = dropoutSeed === null || k === 0 ? dropoutSeed : hash32(dropoutSeed + Math.imul(k, 0x9e3779b9));
    return { index, batch: layoutBatch(group, dropout), dropoutSeed: seed };
  });
}

export async function runMicroBatch(
  model: Transformer,
  pairs: PairIds[],
  lossCfg: LossConfig,
  norm: LossNormalizer,
  opts: { backward: boolean; accumulate: boolean; dropoutSeed: number | null },
): Promise<MicroBatchResult> {
  const groups = layoutGroups(pairs, opts.dropoutSeed, !!model.lora?.cfg.dropout);
  const parts: MicroBatchResult[] = [];
  for (const [k, g] of groups.entries()) {
    const run = { backward: opts.backward, accumulate: opts.accumulate || k > 0, dropoutSeed: g.dropoutSeed };
    parts.push(await runLayout(model, g.index.map((i) => pairs[i]), g.batch, lossCfg, norm, run));
  }
  return parts.length === 1 ? parts[0] : mergeGroups(pairs.length, groups, parts);
}

/** The groups' results as one, pairs back in the micro-batch's order. */
function mergeGroups(B: number, groups: LayoutGroup[], parts: MicroBatchResult[]): MicroBatchResult {
  const logps = new Array<PairLogps>(B);
  const dChosen = new Float64Array(B);
  const dRejected = new Float64Array(B);
  groups.forEach((g, k) =>
    g.index.forEach((i, j) => {
      logps[i] = parts[k].logps[j];
      dChosen[i] = parts[k].loss.dChosen[j];
      dRejected[i] = parts[k].loss.dRejected[j];
    }),
  );
  const sum = (f: (r: MicroBatchResult) => number) => parts.reduce((a, r) => a + f(r), 0);
  const sums = { ...parts[0].loss.sums };
  for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] = sum((r) => r.loss.sums[key]);
  const logitSums = { ...parts[0].logitSums };
  for (const key of Object.keys(logitSums) as (keyof typeof logitSums)[]) logitSums[key] = sum((r) => r.logitSums[key]);
  return {
    logps,
    loss: { loss: sum((r) => r.loss.loss), nll: sum((r) => r.loss.nll), dChosen, dRejected, sums },
    logitSums,
    tokens: sum((r) => r.tokens),
    rowTokens: sum((r) => r.rowTokens),
    paddedTokens: sum((r) => r.paddedTokens),
  };
}

/** One group: its pairs laid out as `batch`. */
async function runLayout(
  model: Transformer,
  pairs: PairIds[],
  batch: SequenceBatch,
  lossCfg: LossConfig,
  norm: LossNormalizer,
  opts: { backward: boolean; accumulate: boolean; dropoutSeed: number | null },
): Promise<MicroBatchResult> {
  const B = pairs.length;
  let ref: Float64Array | null = null;
  if (lossCfg.loss === 'dpo') {
    // The reference policy is the same base with the adapter switched off.
    ref = (await model.forward(batch, { useLora: false, dropoutSeed: null }, false)).seqLogp;
  }
  const fwd = await model.forward(batch, { useLora: true, dropoutSeed: opts.dropoutSeed }, opts.backward);
  const logps: PairLogps[] = pairs.map((_, i) => ({
    chosenSum: fwd.seqLogp[i],
    rejectedSum: fwd.seqLogp[B + i],
    chosenTokens: batch.completionLengths[i],
    rejectedTokens: batch.completionLengths[B + i],
    refChosenSum: ref?.[i],
    refRejectedSum: ref?.[B + i],
  }));
  const loss = cpoLoss(logps, lossCfg, norm);
  if (opts.backward) {
    const dSeq = new Float64Array(2 * B);
    dSeq.set(loss.dChosen, 0);
    dSeq.set(loss.dRejected, B);
    await model.backward(dSeq, opts.accumulate);
  }
  let chosen = 0;
  let rejected = 0;
  let chosenPositions = 0;
  let rejectedPositions = 0;
  for (let i = 0; i < B; i++) {
    chosen += fwd.seqLogitSum[i];
    rejected += fwd.seqLogitSum[B + i];
    chosenPositions += batch.completionLengths[i];
    rejectedPositions += batch.completionLengths[B + i];
  }
  const rowTokens = batch.lengths.reduce((a, b) => a + b, 0);
  return { logps, loss, logitSums: { chosen, rejected, chosenPositions, rejectedPositions }, tokens: pairTokens(pairs), rowTokens, paddedTokens: batch.M };
}
