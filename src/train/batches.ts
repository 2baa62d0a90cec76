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
    restore: (c) => {
      const cur = checkCursor(c);
      if (cur.position > b.batchesPerEpoch) throw new Error(`the checkpoint's data cursor is damaged: cursor.position ${cur.position} is past the ${b.batchesPerEpoch} batches of an epoch`);
      b.restore(cur);
    },
    batchesPerEpoch: () => b.batchesPerEpoch,
  };
}

/** Identifies a tokenized dataset (and its split seed) so a resumed run can check it trains on the same data. */
export function datasetFingerprint(pairs: TokenizedPair[], seed: number, evalFraction: number): string {
  const f = new Fingerprint().number(seed).string(String(evalFraction)).number(pairs.length);
  for (const p of pairs) f.numbers(p.promptIds).numbers(p.chosenIds).numbers(p.rejectedIds);
  return f.hex();
}

/** The batcher's cursor as a checkpoint stored it; a damaged one is refused naming the field. */
export function checkCursor(c: unknown): BatcherCursor {
  const o = c as Partial<BatcherCursor> | null;
  const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const errors: string[] = [];
  if (typeof o !== 'object' || o === null) errors.push(`expected {epoch, position, rngState, trainSize}, got ${JSON.stringify(c)}`);
  else {
    if (!count(o.epoch)) errors.push(`cursor.epoch: expected a non-negative integer, got ${JSON.stringify(o.epoch)}`);
    if (!count(o.position)) errors.push(`cursor.position: expected a non-negative integer, got ${JSON.stringify(o.position)}`);
    if (!count(o.trainSize)) errors.push(`cursor.trainSize: expected a non-negative integer, got ${JSON.stringify(o.trainSize)}`);
    const rs = o.rngState;
    // xoshiro128** has four 32-bit words and must not be all zero (it would only ever yield 0).
    if (!Array.isArray(rs) || rs.length !== 4 || !rs.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) || rs.every((w) => w === 0)) {
      errors.push(`cursor.rngState: expected four 32-bit words not all zero, got ${JSON.stringify(rs)}`);
    }
  }
  if (errors.length) throw new Error(`the checkpoint's data cursor is damaged: ${errors.join('; ')}`);
  return o as BatcherCursor;
}
