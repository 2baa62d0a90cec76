import { describe, it } from 'vitest';
import { matmulBackwardInput, matmulForward, type MatmulVariant } from '../../src/kernels/matmul/matmul.ts';
import { matmulBackwardInputRef, matmulForwardRef } from '../../src/kernels/matmul/matmul.ref.ts';
import { bytesPerRow, decodeWeight, encodeWeight, type WeightType } from '../../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

// f32 sums of K products of O(1) terms: a few ulps of the partial sums' magnitude.
const ATOL = 2e-5;
const RTOL = 1e-4;

interface Case { M: number; N: number; K: number; parts?: number; bias?: boolean; accumulate?: boolean }

async function check(type: WeightType, variant: MatmulVariant, c: Case) {
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
  matmulForward(rec, by, bx, w, M, { bias: bb, accumulate: c.accumulate, variant });
  matmulBackwardInput(rec, bdx, bdy, w, M, { accumulate: c.accumulate, variant });
  await rec.submit();
  const yRef = matmulForwardRef(x, wd, M, N, K, bias);
  const dxRef = matmulBackwardInputRef(dy, wd, M, N, K);
  if (c.accumulate) {
    yRef.forEach((v, i) => (yRef[i] = v + y0[i]));
    dxRef.forEach((v, i) => (dxRef[i] = v + dx0[i]));
  }
  expectClose(await ctx.readF32(by, M * N), yRef, ATOL, RTOL, 'y');
  expectClose(await ctx.readF32(bdx, M * K), dxRef, ATOL, RTOL, 'dx');
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

// The workgroup-memory variant (real GPUs), forced here; kept apart from matmul.test.ts so the two files' pipeline
// compiles run in parallel.
describe('matmul shared', () => {
  for (const variant of ['shared'] as const) {
    for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
      it(`${variant} ${type} forward and backward-input match the reference`, async () => {
        for (const c of shapes[type]) await check(type, variant, c);
      });
    }
  }
});
