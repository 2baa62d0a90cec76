import { describe, expect, it } from 'vitest';
import { clipScale, segmentSum, sumSquares, sumSquaresScratchBytes } from '../../src/kernels/reduce/reduce.ts';
import { clipScaleRef, segmentSumRef, sumSquaresRef } from '../../src/kernels/reduce/reduce.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp } from './op.ts';

describe('reductions', () => {
  // Segment lengths: empty ones (first, middle, last), one element, longer than the workgroup.
  for (const lens of [[1], [0], [0, 1, 7, 0, 300, 33, 0], Array.from({ length: 40 }, (_, i) => (i * 37) % 97)]) {
    it(`segmentSum lengths ${lens.length > 8 ? `${lens.length} segments` : lens.join(',')}`, async () => {
      const rng = new Rng(lens.length);
      const G = lens.length;
      const offsets = new Uint32Array(G + 1);
      lens.forEach((l, g) => (offsets[g + 1] = offsets[g] + l));
      const values = rng.randn(Math.max(offsets[G], 1), 3).map((x) => x - 5); // log-prob-like: mostly negative
      const ref = segmentSumRef(values, offsets);
      await checkOp({
        inputs: { values, offsets },
        outputs: { sums: G, means: G },
        run: (rec, b) => segmentSum(rec, b.sums, b.means, b.values, b.offsets, G),
        want: { sums: { ref: ref.sums, atol: 1e-4, rtol: 1e-5 }, means: { ref: ref.means, atol: 1e-5, rtol: 1e-5 } },
      });
    });
  }

  for (const sizes of [[1], [16383, 16385, 1, 33], [70001, 257]]) {
    it(`sumSquares parts ${sizes.join(',')}`, async () => {
      const rng = new Rng(sizes[0]);
      const xs = sizes.map((n) => rng.randn(n, 0.01));
      const names = xs.map((_, i) => `g${i}`);
      const scratchBytes = sumSquaresScratchBytes(xs.map((x) => ({ n: x.length })));
      await checkOp({
        inputs: Object.fromEntries(xs.map((x, i) => [names[i], x])),
        outputs: { scratch: scratchBytes / 4, out: 1 },
        run: (rec, b) => sumSquares(rec, b.out, xs.map((x, i) => ({ buffer: b[names[i]], n: x.length })), b.scratch),
        want: { out: { ref: [sumSquaresRef(xs)], atol: 1e-12, rtol: 1e-5 } },
      });
    });
  }

  it('sumSquares refuses a short scratch buffer', async () => {
    const ctx = await gpu();
    const x = ctx.buffer('x', 20000 * 4);
    const scratch = ctx.buffer('scratch', 4);
    expect(() => sumSquares(ctx.recorder(), ctx.buffer('out', 4), [{ buffer: x, n: 20000 }], scratch)).toThrow(/scratch/);
  });

  it('clipScale as torch clip_grad_norm_', async () => {
    const cases: [number, number][] = [[0, 1], [4, 1], [0.25, 1], [1e6, 0.5], [9, 0], [9, -1], [9, Infinity], [1, 1], [2, 1e9]];
    await checkOp({
      inputs: Object.fromEntries(cases.map(([n], i) => [`norm${i}`, [n]])),
      outputs: Object.fromEntries(cases.map((_, i) => [`scale${i}`, 1])),
      run: (rec, b) => cases.forEach(([, maxNorm], i) => clipScale(rec, b[`scale${i}`], b[`norm${i}`], maxNorm)),
      want: Object.fromEntries(cases.map(([n, m], i) => [`scale${i}`, { ref: [clipScaleRef(n, m)], atol: 1e-7, rtol: 1e-6 }])),
    });
  });
});
