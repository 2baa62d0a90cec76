// One micro-batch of preference pairs through the model: log-probs, the CPO-family loss, and (optionally)
// the LoRA gradients. The loss itself is computed on the host in float64 from 2B scalars read back.
import { layoutPairs, type PairIds } from '../model/batch.ts';
import type { Transformer } from '../model/transformer.ts';
import { cpoLoss, type LossConfig, type LossNormalizer, type LossResult, type PairLogps } from './losses.ts';

export interface MicroBatchResult {
  logps: PairLogps[];
  loss: LossResult;
  /** Σ of raw logits over chosen / rejected completion positions, and the counts (for logits/* metrics). */
  logitSums: { chosen: number; rejected: number; chosenPositions: number; rejectedPositions: number };
  tokens: number; // real (non-padding) tokens processed
  paddedTokens: number;
}

export async function runMicroBatch(
  model: Transformer,
  pairs: PairIds[],
  lossCfg: LossConfig,
  norm: LossNormalizer,
  opts: { backward: boolean; accumulate: boolean; dropoutSeed: number | null },
): Promise<MicroBatchResult> {
  const B = pairs.length;
  const batch = layoutPairs(pairs, 0);
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
  const tokens = Array.from(batch.lengths).reduce((a, b) => a + b, 0);
  return { logps, loss, logitSums: { chosen, rejected, chosenPositions, rejectedPositions }, tokens, paddedTokens: batch.M };
}
