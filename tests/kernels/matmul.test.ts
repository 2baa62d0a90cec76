import { describe, expect, it } from 'vitest';
import { defaultForwardVariant, matmulBackwardInput, matmulForward, type MatmulForwardVariant } from '../../src/kernels/matmul/matmul.ts';
import { matmulBackwardInputRef, matmulForwardRef } from '../../src/kernels/matmul/matmul.ref.ts';
import { bytesPerRow, decodeWeight, encodeWeight, type WeightType } from '../../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

// f32 sums of K products of O(1) terms: a few ulps of the partial sums' magnitude.
const ATOL = 2e-5;
const RTOL = 1e-4;

interface Case { M: number; N: number; K: number; parts?: number; bias?: boolean; accumulate?: boolean }

// variant 'auto' lets matmulForward choose from M; backward-input is checked for the two-way variants only.
async function check(type: WeightType, variant: MatmulForwardVariant | 'auto', c: Case) {
  const ctx = await gpu();
  const { M, N, K } = c;
  const rng = new Rng(M * 1000 + N * 10 + K);
  const bytes = encodeWeight(type, rng.randn(N * K, 0.5), N, K);
  const wd = decodeWeight(type, bytes, N, K);
  // A small maxPartBytes forces several parts (the last one ragged).
  const maxPart = c.parts ? Math.ceil(N / c.parts) * bytesPerRow(type, K) : undefined;
  const w = uploadWeight(ctx, 'w', type, bytes, N, K, maxPart);
  if (c.parts && w.parts.length !== c.parts) throw new Error(`expected ${c.parts} parts, got ${w.parts.length}`);
  const x = rng.randn(M * K);
  const dy = rng.randn(M * N);
  const bias = c.bias ? rng.randn(N) : undefined;
  const y0 = rng.randn(M * N);
  const dx0 = rng.randn(M * K);
  const bx = ctx.upload('x', x);
  const bdy = ctx.upload('dy', dy);
  const bb = bias ? ctx.upload('bias', bias) : undefined;
  const by = ctx.buffer('y', M * N * 4);
  const bdx = ctx.buffer('dx', M * K * 4);
  if (c.accumulate) {
    ctx.write(by, y0);
    ctx.write(bdx, dx0);
  } else {
    ctx.poison(by);
    ctx.poison(bdx);
  }
  const rec = ctx.recorder();
  const fwdVariant = variant === 'auto' ? undefined : variant;
  const bwd = variant === 'register' || variant === 'shared';
  matmulForward(rec, by, bx, w, M, { bias: bb, accumulate: c.accumulate, variant: fwdVariant });
  if (bwd) matmulBackwardInput(rec, bdx, bdy, w, M, { accumulate: c.accumulate, variant });
  await rec.submit();
  const yRef = matmulForwardRef(x, wd, M, N, K, bias);
  const dxRef = matmulBackwardInputRef(dy, wd, M, N, K);
  if (c.accumulate) {
    yRef.forEach((v, i) => (yRef[i] = v + y0[i]));
    dxRef.forEach((v, i) => (dxRef[i] = v + dx0[i]));
  }
  expectClose(await ctx.readF32(by, M * N), yRef, ATOL, RTOL, 'y');
  if (bwd) expectClose(await ctx.readF32(bdx, M * K), dxRef, ATOL, RTOL, 'dx');
  [bx, bdy, bb, by, bdx].forEach((b) => ctx.release(b));
  releaseWeight(ctx, w);
}

// Shapes off every tile size (4x4 register tiles, 64x64 shared tiles, reduction chunks of 8); each type also runs
// one multi-part weight with bias and accumulation. Two flag combinations per type keep pipeline compiles
// (slow on SwiftShader) down.
const shapes: Record<WeightType, Case[]> = {
  f32: [{ M: 1, N: 1, K: 1 }, { M: 5, N: 7, K: 13 }, { M: 67, N: 70, K: 36 }, { M: 6, N: 11, K: 67, parts: 3, bias: true, accumulate: true }],
  f16: [{ M: 5, N: 9, K: 34 }, { M: 66, N: 65, K: 64 }, { M: 7, N: 13, K: 70, parts: 2, bias: true, accumulate: true }],
  q8_0: [{ M: 5, N: 9, K: 32 }, { M: 65, N: 67, K: 96 }, { M: 7, N: 10, K: 64, parts: 3, bias: true, accumulate: true }],
  q4_0: [{ M: 5, N: 9, K: 32 }, { M: 65, N: 67, K: 96 }, { M: 7, N: 10, K: 64, parts: 3, bias: true, accumulate: true }],
};

// Decoding's few rows: the matvec forward at M = 1..8 (N, K off every tile and block-of-4 size), each type with
// a multi-part weight, bias and accumulation; M = 9 through matmulForward's own choice (past matvec's rows).
const vecShapes: Record<WeightType, Case[]> = {
  f32: [{ M: 1, N: 1, K: 1 }, { M: 2, N: 7, K: 13 }, { M: 3, N: 70, K: 67, parts: 3, bias: true, accumulate: true }, { M: 5, N: 5, K: 9 }],
  f16: [{ M: 1, N: 9, K: 34 }, { M: 2, N: 65, K: 66 }, { M: 3, N: 13, K: 70, parts: 2, bias: true, accumulate: true }, { M: 8, N: 6, K: 38 }],
  q8_0: [{ M: 1, N: 9, K: 32 }, { M: 2, N: 67, K: 96 }, { M: 3, N: 10, K: 64, parts: 3, bias: true, accumulate: true }, { M: 5, N: 7, K: 64 }],
  q4_0: [{ M: 1, N: 9, K: 32 }, { M: 2, N: 67, K: 96 }, { M: 3, N: 10, K: 64, parts: 3, bias: true, accumulate: true }, { M: 5, N: 7, K: 64 }],
};
const autoShapes: Case[] = [{ M: 1, N: 11, K: 64, bias: true }, { M: 9, N: 11, K: 64, parts: 2, bias: true, accumulate: true }];

describe('matmul', () => {
  it('reference backward-input matches finite differences', () => {
    const rng = new Rng(3);
    const [M, N, K] = [3, 4, 5];
    const w = Float64Array.from(rng.randn(N * K));
    const x = Float64Array.from(rng.randn(M * K));
    const dy = Float64Array.from(rng.randn(M * N));
    const dx = matmulBackwardInputRef(dy, w, M, N, K);
    expectClose(numericGrad((v) => dot(dy, matmulForwardRef(v, w, M, N, K)), x), dx, 1e-8, 1e-6, 'dx');
  });

  for (const variant of ['register'] as const) {
    for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
      it(`${variant} ${type} forward and backward-input match the reference`, async () => {
        for (const c of shapes[type]) await check(type, variant, c);
      });
    }
  }

  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    it(`matvec ${type} forward matches the reference at M <= 8`, async () => {
      for (const c of vecShapes[type]) await check(type, 'matvec', c);
    });
  }

  it('on a CPU adapter matvec rows equal the register variant\'s bit for bit (decoding batches agree)', async () => {
    const ctx = await gpu();
    if (!ctx.caps.isCpu) return;
    for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
      const [M, N, K] = [5, 37, type === 'f32' ? 70 : 96];
      const rng = new Rng(11);
      const w = uploadWeight(ctx, 'w', type, encodeWeight(type, rng.randn(N * K, 0.5), N, K), N, K);
      const bx = ctx.upload('x', rng.randn(M * K));
      const [ya, yb] = [ctx.buffer('ya', M * N * 4), ctx.buffer('yb', M * N * 4)];
      const rec = ctx.recorder();
      matmulForward(rec, ya, bx, w, M, { variant: 'matvec' });
      matmulForward(rec, yb, bx, w, M, { variant: 'register' });
      await rec.submit();
      expect(Array.from(await ctx.readF32(ya, M * N))).toEqual(Array.from(await ctx.readF32(yb, M * N)));
      [bx, ya, yb].forEach((b) => ctx.release(b));
      releaseWeight(ctx, w);
    }
  });

  it('matmulForward picks matvec for few rows on a CPU adapter, and matches the reference at M = 1, 9', async () => {
    const ctx = await gpu();
    if (ctx.caps.isCpu) {
      expect(defaultForwardVariant(ctx, 1)).toBe('matvec');
      expect(defaultForwardVariant(ctx, 8)).toBe('matvec');
      expect(defaultForwardVariant(ctx, 9)).toBe('register');
    }
    for (const type of ['q4_0', 'f16'] as const) for (const c of autoShapes) await check(type, 'auto', c);
  });
});
