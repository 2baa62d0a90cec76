import { describe, expect, it } from 'vitest';
import { PairBatcher, pairLength, type PairBatch, type TokenizedPair } from '../../src/data/index.ts';
import { Rng } from '../../src/util/rng.ts';

function pairs(n: number, seed = 1): TokenizedPair[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, index) => ({
    index,
    promptIds: new Array(5 + rng.int(200)).fill(7),
    chosenIds: new Array(1 + rng.int(100)).fill(8),
    rejectedIds: new Array(1 + rng.int(100)).fill(9),
  }));
}

const ids = (b: PairBatch | null) => b!.pairs.map((p) => p.index);
const padding = (bs: PairBatch[]) => bs.reduce((s, b) => s + b.pairs.reduce((t, p) => t + b.maxLength - pairLength(p), 0), 0);

describe('PairBatcher', () => {
  it('splits train/eval deterministically from the seed', () => {
    const data = pairs(1000);
    const a = new PairBatcher(data, { batchSize: 8, seed: 3, evalFraction: 0.1 });
    const b = new PairBatcher(data, { batchSize: 8, seed: 3, evalFraction: 0.1 });
    const c = new PairBatcher(data, { batchSize: 8, seed: 4, evalFraction: 0.1 });
    expect(a.eval).toHaveLength(100);
    expect(a.train).toHaveLength(900);
    expect(a.eval.map((p) => p.index)).toEqual(b.eval.map((p) => p.index));
    expect(a.eval.map((p) => p.index)).not.toEqual(c.eval.map((p) => p.index));
    const all = [...a.train, ...a.eval].map((p) => p.index).sort((x, y) => x - y);
    expect(all).toEqual(data.map((p) => p.index));
    expect(a.evalBatches().flatMap((x) => x.pairs)).toHaveLength(100);
  });

  it('visits every train pair once per epoch, in a seed-determined order', () => {
    const bt = new PairBatcher(pairs(1003), { batchSize: 10, seed: 9 });
    expect(bt.batchesPerEpoch).toBe(101);
    const epoch0 = Array.from({ length: 101 }, () => bt.next()!);
    expect(epoch0.every((b) => b.epoch === 0)).toBe(true);
    expect(epoch0.flatMap((b) => b.pairs.map((p) => p.index)).sort((x, y) => x - y)).toEqual([...Array(1003).keys()]);
    const next = bt.next()!;
    expect(next.epoch).toBe(1);
    const again = new PairBatcher(pairs(1003), { batchSize: 10, seed: 9 });
    expect(ids(again.next())).toEqual(ids(epoch0[0]));
    const dropped = new PairBatcher(pairs(1003), { batchSize: 10, seed: 9, dropLast: true });
    expect(dropped.batchesPerEpoch).toBe(100);
  });

  it('groups by length: far less padding than plain shuffling', () => {
    const data = pairs(2000);
    const grouped = new PairBatcher(data, { batchSize: 16, seed: 1 });
    const plain = new PairBatcher(data, { batchSize: 16, seed: 1, groupByLength: false });
    const g = Array.from({ length: grouped.batchesPerEpoch }, () => grouped.next()!);
    const p = Array.from({ length: plain.batchesPerEpoch }, () => plain.next()!);
    expect(padding(g)).toBeLessThan(padding(p) / 5);
  });

  it('restores a saved cursor exactly, mid-epoch and across epoch boundaries', () => {
    const data = pairs(300);
    const opts = { batchSize: 7, seed: 42, evalFraction: 0.05 };
    const ref = new PairBatcher(data, opts);
    const seq = Array.from({ length: 200 }, () => ids(ref.next()));
    for (const stopAt of [0, 5, 40, 41, 42, 123]) {
      const run = new PairBatcher(data, opts);
      for (let i = 0; i < stopAt; i++) run.next();
      const saved = JSON.parse(JSON.stringify(run.cursor()));
      const resumed = new PairBatcher(data, opts);
      resumed.restore(saved);
      const rest = Array.from({ length: 200 - stopAt }, () => ids(resumed.next()));
      expect(rest).toEqual(seq.slice(stopAt));
    }
    expect(() => new PairBatcher(pairs(100), opts).restore(ref.cursor())).toThrow(/cursor is for/);
  });

  it('returns null with nothing to train on', () => {
    expect(new PairBatcher([], { batchSize: 4, seed: 1 }).next()).toBeNull();
  });
});
