import { describe, expect, it } from 'vitest';
import { clipScale, segmentSum, sumSquares, sumSquaresScratchBytes } from '../../src/kernels/reduce/reduce.ts';
import { clipScaleRef, segmentSumRef, sumSquaresRef } from '../../src/kernels/reduce/reduce.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

describe('reductions', () => {
  // Segment lengths: empty ones (first, middle, last), one element, longer than the workgroup.
  for (const lens of [[1], [0], [0, 1, 7, 0, 300, 33, 0], Array.from({ length: 40 }, (_, i) => (i * 37) % 97)]) {
    it(`segmentSum lengths ${lens.length > 8 ? `${lens.length} segments` : lens.join(',')}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(lens.length);
      const G = lens.length;
      const offsets = new Uint32Array(G + 1);
      lens.forEach((l, g) => (offsets[g + 1] = offsets[g] + l));
      const S = offsets[G];
      const values = rng.randn(Math.max(S, 1), 3).map((x) => x - 5); // log-prob-like: mostly negative
      const bv = ctx.upload('values', values);
      const bo = ctx.upload('offsets', offsets);
      const sums = ctx.buffer('sums', G * 4);
      const means = ctx.buffer('means', G * 4);
      [sums, means].forEach((b) => ctx.poison(b));
      const rec = ctx.recorder();
      segmentSum(rec, sums, means, bv, bo, G);
      await rec.submit();
      const ref = segmentSumRef(values, offsets);
      expectClose(await ctx.readF32(sums, G), ref.sums, 1e-4, 1e-5, 'sums');
      expectClose(await ctx.readF32(means, G), ref.means, 1e-5, 1e-5, 'means');
      [bv, bo, sums, means].forEach((b) => ctx.release(b));
    });
  }

  for (const sizes of [[1], [16383, 16385, 1, 33], [70001, 257]]) {
    it(`sumSquares parts ${sizes.join(',')}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(sizes[0]);
      const xs = sizes.map((n) => rng.randn(n, 0.01));
      const parts = xs.map((x, i) => ({ buffer: ctx.upload(`g${i}`, x), n: x.length }));
      const scratch = ctx.buffer('scratch', sumSquaresScratchBytes(parts));
      const out = ctx.buffer('out', 4);
      [scratch, out].forEach((b) => ctx.poison(b));
      const rec = ctx.recorder();
      sumSquares(rec, out, parts, scratch);
      await rec.submit();
      expectClose(await ctx.readF32(out, 1), [sumSquaresRef(xs)], 1e-12, 1e-5, 'normSq');
      [...parts.map((p) => p.buffer), scratch, out].forEach((b) => ctx.release(b));
    });
  }

  it('sumSquares refuses a short scratch buffer', async () => {
    const ctx = await gpu();
    const x = ctx.buffer('x', 20000 * 4);
    const scratch = ctx.buffer('scratch', 4);
    expect(() => sumSquares(ctx.recorder(), ctx.buffer('out', 4), [{ buffer: x, n: 20000 }], scratch)).toThrow(/scratch/);
  });

  it('clipScale as torch clip_grad_norm_', async () => {
    const ctx = await gpu();
    const cases: [number, number][] = [[0, 1], [4, 1], [0.25, 1], [1e6, 0.5], [9, 0], [9, -1], [9, Infinity], [1, 1], [2, 1e9]];
    const norms = cases.map(([n]) => ctx.upload('n', new Float32Array([n])));
    const outs = cases.map(() => ctx.buffer('scale', 4));
    outs.forEach((b) => ctx.poison(b));
    const rec = ctx.recorder();
    cases.forEach(([, maxNorm], i) => clipScale(rec, outs[i], norms[i], maxNorm));
    await rec.submit();
    const got = await Promise.all(outs.map(async (b) => (await ctx.readF32(b, 1))[0]));
    expectClose(got, cases.map(([n, m]) => clipScaleRef(n, m)), 1e-7, 1e-6, 'scale');
  });
});
