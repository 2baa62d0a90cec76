import { describe, expect, it } from 'vitest';
import { layoutPairs } from '../../src/model/batch.ts';

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
