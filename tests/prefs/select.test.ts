// The selection rule on constructed candidates: best/worst with ALMA's first-wins ties, margins, the reference
// taking part or not, and the seeded random-lower draw.
import { describe, expect, it } from 'vitest';
import { selectPair, type SelectOptions } from '../../src/prefs/select.ts';
import type { ScoredCandidate } from '../../src/prefs/types.ts';

const c = (text: string, score: number, ...from: string[]): ScoredCandidate => ({ text, score, from: from.length ? from : [`model:${text}`] });
const O: SelectOptions = { rule: 'worst', margin: 0, includeReference: true, seed: 0 };

describe('selectPair', () => {
  it('chooses the highest and rejects the lowest', () => {
    const cands = [c('a', 40), c('b', 70), c('c', 10), c('d', 55)];
    expect(selectPair(cands, O, 0)).toEqual({ kind: 'pair', chosen: 1, rejected: 2 });
  });

  it('breaks ties by candidate order: the first of the best, the first of the worst', () => {
    const cands = [c('a', 10), c('b', 90), c('c', 10), c('d', 90)];
    expect(selectPair(cands, O, 0)).toEqual({ kind: 'pair', chosen: 1, rejected: 0 });
    // Reordering the same scores moves the pick with the order, nothing else.
    expect(selectPair([cands[3], cands[2], cands[1], cands[0]], O, 0)).toEqual({ kind: 'pair', chosen: 0, rejected: 1 });
  });

  it('keeps the reference as chosen when it is best, and leaves it out when asked', () => {
    const cands = [c('ref', 100, 'reference'), c('x', 60), c('y', 20)];
    expect(selectPair(cands, O, 0)).toEqual({ kind: 'pair', chosen: 0, rejected: 2 });
    expect(selectPair(cands, { ...O, includeReference: false }, 0)).toEqual({ kind: 'pair', chosen: 1, rejected: 2 });
  });

  it('a system output equal to the reference stays eligible without the reference', () => {
    const cands = [c('ref', 100, 'reference', 'system:gpt4'), c('y', 20)];
    expect(selectPair(cands, { ...O, includeReference: false }, 0)).toEqual({ kind: 'pair', chosen: 0, rejected: 1 });
  });

  it('ranks a reference that is not best where its score puts it (scores from another metric)', () => {
    const cands = [c('ref', 50, 'reference'), c('x', 80), c('y', 20)];
    expect(selectPair(cands, O, 0)).toEqual({ kind: 'pair', chosen: 1, rejected: 2 });
    expect(selectPair([c('ref', 10, 'reference'), c('x', 80), c('y', 20)], O, 0)).toEqual({ kind: 'pair', chosen: 1, rejected: 0 });
  });

  it('drops pairs closer than the margin, keeps those exactly at it, and never keeps equal scores', () => {
    const cands = [c('a', 50), c('b', 45)];
    expect(selectPair(cands, { ...O, margin: 5 }, 0)).toEqual({ kind: 'pair', chosen: 0, rejected: 1 });
    expect(selectPair(cands, { ...O, margin: 5.0001 }, 0)).toEqual({ kind: 'dropped', reason: 'margin' });
    expect(selectPair([c('a', 30), c('b', 30)], O, 0)).toEqual({ kind: 'dropped', reason: 'margin' });
  });

  it('drops sources with fewer than two eligible candidates', () => {
    expect(selectPair([c('a', 30)], O, 0)).toEqual({ kind: 'dropped', reason: 'too-few' });
    expect(selectPair([c('ref', 100, 'reference'), c('a', 30)], { ...O, includeReference: false }, 0)).toEqual({ kind: 'dropped', reason: 'too-few' });
  });

  it('random-lower: rejects a candidate at least the margin below the best, the same one for the same (seed, row)', () => {
    const cands = [c('a', 90), c('b', 85), c('c', 60), c('d', 40), c('e', 20), c('f', 90)];
    const o: SelectOptions = { ...O, rule: 'random-lower', margin: 10 };
    const picks = new Set<number>();
    for (let row = 0; row < 200; row++) {
      const s = selectPair(cands, o, row);
      if (s.kind !== 'pair') throw new Error('dropped');
      expect(s.chosen).toBe(0);
      expect([2, 3, 4]).toContain(s.rejected);
      expect(selectPair(cands, o, row)).toEqual(s);
      picks.add(s.rejected);
    }
    expect([...picks].sort()).toEqual([2, 3, 4]);
    // Another seed draws differently somewhere.
    const draws = (seed: number) => Array.from({ length: 50 }, (_, r) => (selectPair(cands, { ...o, seed }, r) as { rejected: number }).rejected);
    expect(draws(1)).not.toEqual(draws(2));
    expect(selectPair([c('a', 50), c('b', 45)], o, 0)).toEqual({ kind: 'dropped', reason: 'margin' });
  });
});
