import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { clipScale, reduceLayout, segmentSum, sumSquares, sumSquaresScratchBytes } from '../../src/kernels/reduce/reduce.ts';
import { clipScaleRef, segmentSumRef, sumSquaresRef } from '../../src/kernels/reduce/reduce.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp, eachVariant, forceEnv, type EnvPatch } from './op.ts';

describe('reductions', async () => {
  // The workgroup sums as a shared-memory tree, or, where the device's subgroups all have one size (on
  // SwiftShader: 4), as one subgroup per workgroup; each forced.
  const caps = (await gpu()).caps;
  const oneSize = caps.subgroups && caps.subgroupMinSize === caps.subgroupMaxSize;
  const layouts: Record<string, EnvPatch> = {
    tree: { reduce: { subgroups: false } },
    ...(oneSize ? { subgroups: { reduce: { subgroups: true } } } : {}),
  };
  // The forced layout is the one that ran: a reduce pipeline of that layout exists after the case.
  const ran = async (layout: string) => {
    const ids = (await gpu()).pipelineIds.filter((id) => id.startsWith('reduce(') && !id.includes('KERNEL=CLIP'));
    expect(ids.some((id) => id.includes(`SUBGROUPS=${layout === 'subgroups'}`))).toBe(true);
  };

  // Segment lengths: empty ones (first, middle, last), one element, longer than the workgroup.
  for (const lens of [[1], [0], [0, 1, 7, 0, 300, 33, 0], Array.from({ length: 40 }, (_, i) => (i * 37) % 97)]) {
    eachVariant(layouts, `segmentSum lengths ${lens.length > 8 ? `${lens.length} segments` : lens.join(',')}`, async (layout) => {
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
      await ran(layout);
    });
  }

  for (const sizes of [[1], [16383, 16385, 1, 33], [70001, 257]]) {
    eachVariant(layouts, `sumSquares parts ${sizes.join(',')}`, async (layout) => {
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
      await ran(layout);
    });
  }

  it('the subgroup layout: by default wherever subgroups have one power-of-two size', () => {
    const fake = (subgroups: boolean, min: number, max: number, isCpu: boolean) =>
      ({ caps: { ...caps, subgroups, subgroupMinSize: min, subgroupMaxSize: max, isCpu } }) as GpuContext;
    expect(reduceLayout(fake(true, 32, 32, false))).toEqual({ subgroups: true, wg: 32 });
    expect(reduceLayout(fake(true, 4, 4, true))).toEqual({ subgroups: true, wg: 4 });
    expect(reduceLayout(fake(true, 32, 64, false))).toEqual({ subgroups: false, wg: 256 });
    expect(reduceLayout(fake(true, 24, 24, false))).toEqual({ subgroups: false, wg: 256 });
    expect(reduceLayout(fake(false, 0, 0, false))).toEqual({ subgroups: false, wg: 256 });
    forceEnv({ reduce: { subgroups: true } });
    expect(reduceLayout(fake(true, 4, 4, true))).toEqual({ subgroups: true, wg: 4 });
    expect(() => reduceLayout(fake(true, 8, 32, false))).toThrow(/subgroups of one size \(device: 8-32\)/);
    forceEnv({ reduce: { subgroups: false } });
    expect(reduceLayout(fake(true, 32, 32, false))).toEqual({ subgroups: false, wg: 256 });
  });

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
