import { describe, expect, it } from 'vitest';
import { lengthGroups, layoutPairs, layoutSharedPrompt, pairLengths, pairTokens, type PairIds } from '../../src/model/batch.ts';
import { Rng } from '../../src/util/rng.ts';

describe('layoutPairs', () => {
  it("puts a side's prompt tail after the shared prompt, masked: only completion tokens are selected", () => {
    const b = layoutPairs([{ promptIds: [1, 5], chosenIds: [7, 8, 2], rejectedIds: [9, 2], rejectedPromptTail: [6] }], 0);
    expect(b.T).toBe(5);
    expect([...b.ids]).toEqual([1, 5, 7, 8, 2, 1, 5, 6, 9, 2]);
    expect([...b.lengths]).toEqual([5, 5]);
    // chosen: positions 1..3 predict 7, 8, 2; rejected: positions 2..3 predict 9, 2 (6 is context only).
    expect([...b.rows]).toEqual([1, 2, 3, 5 + 2, 5 + 3]);
    expect([...b.labels]).toEqual([7, 8, 2, 9, 2]);
    expect(b.completionLengths).toEqual([3, 2]);
  });
});

describe('layoutSharedPrompt', () => {
  const pairs = [
    { promptIds: [1, 5], chosenIds: [7, 8, 2], rejectedIds: [9, 2], rejectedPromptTail: [6] },
    { promptIds: [3, 4, 5], chosenIds: [11], rejectedIds: [12, 13] },
  ];
  it('runs each prompt once: the last prompt token (and a tail) opens each branch, positions restart after the prompt', () => {
    const b = layoutSharedPrompt(pairs, 0);
    expect([b.nSeq, b.rowSeqs, b.T, b.M]).toEqual([4, 2, 9, 18]);
    // pair 0: shared [1], chosen [5 7 8 2], rejected [5 6 9 2]; pair 1: shared [3 4], chosen [5 11], rejected [5 12 13].
    expect([...b.ids]).toEqual([1, 5, 7, 8, 2, 5, 6, 9, 2, 3, 4, 5, 11, 5, 12, 13, 0, 0]);
    expect([...b.lengths]).toEqual([9, 7]);
    expect([...b.shared!.promptLen]).toEqual([1, 2]);
    expect([...b.shared!.branchStart]).toEqual([5, 4]);
    expect([...b.shared!.positions.subarray(0, 9)]).toEqual([0, 1, 2, 3, 4, 1, 2, 3, 4]);
    expect([...b.shared!.positions.subarray(9, 16)]).toEqual([0, 1, 2, 3, 2, 3, 4]);
    // The same scored positions as two sequences per pair, in the same order: chosen 0, 1, then rejected 0, 1.
    const plain = layoutPairs(pairs, 0);
    expect([...b.labels]).toEqual([...plain.labels]);
    expect([...b.offsets]).toEqual([...plain.offsets]);
    expect(b.completionLengths).toEqual(plain.completionLengths);
    expect([...b.rows]).toEqual([1, 2, 3, 9 + 2, 6, 7, 9 + 4, 9 + 5]);
    for (const [i, r] of b.rows.entries()) {
      // Each selected row's own token and position are those of the row it stands for in the plain layout.
      const pr = plain.rows[i];
      expect(b.ids[r]).toBe(plain.ids[pr]);
      expect(b.shared!.positions[r]).toBe(pr % plain.T);
    }
    expect(new Set(b.rows).size).toBe(b.S);
    expect(pairTokens(pairs)).toBe([...plain.lengths].reduce((a, x) => a + x, 0));
  });

  it('refuses an empty prompt or completion, as layoutPairs does', () => {
    expect(() => layoutSharedPrompt([{ promptIds: [], chosenIds: [1], rejectedIds: [2] }])).toThrow(/empty prompt/);
    expect(() => layoutSharedPrompt([{ promptIds: [1], chosenIds: [1], rejectedIds: [] }])).toThrow(/empty completion/);
  });
});

describe('lengthGroups', () => {
  const rng = new Rng(21);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(50));
  const randomPair = (): PairIds => ({
    promptIds: ids(rng.int(30)), chosenIds: ids(1 + rng.int(20)), rejectedIds: ids(1 + rng.int(20)),
    ...(rng.int(3) === 0 ? { chosenPromptTail: ids(1) } : {}), ...(rng.int(3) === 0 ? { rejectedPromptTail: ids(2) } : {}),
  });

  it('pairLengths is the length each pair alone is padded to, in either layout', () => {
    const pairs = Array.from({ length: 40 }, randomPair).filter((p) => p.promptIds.length || (p.chosenPromptTail && p.rejectedPromptTail));
    expect(pairs.length).toBeGreaterThan(20);
    expect(pairLengths(pairs, true)).toEqual(pairs.map((p) => layoutSharedPrompt([p]).T));
    expect(pairLengths(pairs, false)).toEqual(pairs.map((p) => layoutPairs([p]).T));
  });

  /** Rows the groups take padded, plus an eighth of the unsplit batch's rows per cut (lengthGroups's price). */
  const cost = (need: number[], per: number, groups: number[][]) =>
    groups.reduce((a, g) => a + g.length * per * Math.max(...g.map((i) => need[i])), 0) + ((groups.length - 1) * need.length * per * Math.max(...need)) / 8;

  it('takes the cheapest cuts of the sorted pairs: every group, indices ascending, longest first', () => {
    for (let trial = 0; trial < 200; trial++) {
      const B = 1 + rng.int(9);
      const per = 1 + rng.int(2);
      const need = Array.from({ length: B }, () => 1 + rng.int(rng.int(2) ? 20 : 200));
      const groups = lengthGroups(need, per);
      expect(groups.flat().sort((a, b) => a - b)).toEqual(need.map((_, i) => i));
      for (const g of groups) expect(g).toEqual([...g].sort((a, b) => a - b));
      const longest = groups.map((g) => Math.max(...g.map((i) => need[i])));
      expect(longest).toEqual([...longest].sort((a, b) => b - a));
      // Every way of cutting the sorted order (2^(B-1) of them) costs at least as much.
      const order = need.map((_, i) => i).sort((a, b) => need[a] - need[b] || a - b);
      let best = Infinity;
      for (let mask = 0; mask < 2 ** (B - 1); mask++) {
        const cuts: number[][] = [[order[0]]];
        for (let i = 1; i < B; i++) (mask & (1 << (i - 1)) ? cuts.push([order[i]]) : cuts[cuts.length - 1].push(order[i]));
        best = Math.min(best, cost(need, per, cuts));
      }
      expect(cost(need, per, groups)).toBeCloseTo(best, 9);
    }
  });

  it('cuts only where a cut saves an eighth of the rows', () => {
    expect(lengthGroups([40, 40, 40, 40], 1)).toEqual([[0, 1, 2, 3]]);
    // Cutting [30 | 40 x 3] saves 20 rows of 320, less than 40.
    expect(lengthGroups([40, 30, 40, 40], 2)).toEqual([[0, 1, 2, 3]]);
    // Cutting [20 20 | 100 100] saves 160 rows of 400, more than 50.
    expect(lengthGroups([100, 20, 20, 100], 1)).toEqual([[0, 3], [1, 2]]);
    expect(lengthGroups([7], 1)).toEqual([[0]]);
    expect(lengthGroups([], 1)).toEqual([[]]);
  });
});
