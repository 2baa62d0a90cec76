import { describe, expect, it } from 'vitest';
import { layoutPairs, layoutSharedPrompt, pairTokens } from '../../src/model/batch.ts';

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
