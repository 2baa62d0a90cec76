// The data batcher (src/data) seen as the training loop's BatchSource.
import type { BatcherCursor, PairBatcher, TokenizedPair } from '../data/index.ts';
import { Fingerprint } from '../util/hash.ts';
import type { BatchSource } from './run.ts';

export function batchSource(b: PairBatcher): BatchSource {
  let last = { epoch: 0, step: 0 };
  return {
    next() {
      const batch = b.next();
      if (!batch) throw new Error('the training split is empty');
      last = { epoch: batch.epoch, step: batch.step + 1 };
      return batch.pairs;
    },
    epoch: () => last.epoch + last.step / Math.max(1, b.batchesPerEpoch),
    cursor: () => b.cursor(),
    restore: (c) => b.restore(c as BatcherCursor),
    batchesPerEpoch: () => b.batchesPerEpoch,
  };
}

/** Identifies a tokenized dataset (and its split seed) so a resumed run can check it trains on the same data. */
export function datasetFingerprint(pairs: TokenizedPair[], seed: number, evalFraction: number): string {
  const f = new Fingerprint().number(seed).string(String(evalFraction)).number(pairs.length);
  for (const p of pairs) f.numbers(p.promptIds).numbers(p.chosenIds).numbers(p.rejectedIds);
  return f.hex();
}
