// One micro-batch of preference pairs through the model: log-probs, the CPO-family loss, and (optionally)
// the LoRA gradients. The loss itself is computed on the host in float64 from 2B scalars read back.
// The pairs run in the shared-prompt layout (each prompt once, model/batch.ts) unless kernelEnv.step says
// otherwise or LoRA dropout is on (TRL draws a separate mask for each copy of the prompt).
import { kernelEnv } from '../kernels/env.ts';
import { layoutPairs, layoutSharedPrompt, pairTokens, type PairIds, type SequenceBatch } from '../model/batch.ts';
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

/** The layout runMicroBatch gives these pairs (dropout: whether this pass draws LoRA dropout masks). */
export function layoutBatch(pairs: PairIds[], dropout: boolean): SequenceBatch {
  return usesSharedPrompt(dropout) ? layoutSharedPrompt(pairs, 0) : layoutPairs(pairs, 0);
}

export async function runMicroBatch(
  model: Transformer,
  pairs: PairIds[],
  lossCfg: LossConfig,
  norm: LossNormalizer,
  opts: { backward: boolean; accumulate: boolean; dropoutSeed: number | null },
): Promise<MicroBatchResult> {
  const B = pairs.length;
  const dropout = !!model.lora?.cfg.dropout && opts.dropoutSeed !== null;
  const batch = layoutBatch(pairs, dropout);
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
