import { describe, expect, it } from 'vitest';
import { defaultForwardVariant, matmulForward } from '../../src/kernels/matmul/matmul.ts';
import { matmulBackwardInputRef, matmulForwardRef } from '../../src/kernels/matmul/matmul.ref.ts';
import type { WeightType } from '../../src/kernels/quant/formats.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';
import { ATOL, checkMatmul, RTOL, shapes, testWeight, type Case } from './matmul.case.ts';
import { checkOp, checkRefGrad, eachVariant, forceEnv, type Want } from './op.ts';

// Decoding's few rows: the matvec forward at M = 1..8 (N, K off every tile and block-of-4 size), each type with
// a multi-part weight, bias and accumulation; M = 9 through matmulForward's own choice (past matvec's rows).
const vecShapes: Record<WeightType, Case[]> = {
  f32: [{ M: 1, N: 1, K: 1 }, { M: 2, N: 7, K: 13 }, { M: 3, N: 70, K: 67, parts: 3, bias: true, accumulate: true }, { M: 5, N: 5, K: 9 }],
  f16: [{ M: 1, N: 9, K: 34 }, { M: 2, N: 65, K: 66 }, { M: 3, N: 13, K: 70, parts: 2, bias: true, accumulate: true }, { M: 8, N: 6, K: 38 }],
  q8_0: [{ M: 1, N: 9, K: 32 }, { M: 2, N: 67, K: 96 }, { M: 3, N: 10, K: 64, parts: 3, bias: true, accumulate: true }, { M: 5, N: 7, K: 64 }],
  q4_0: [{ M: 1, N: 9, K: 32 }, { M: 2, N: 67, K: 96 }, { M: 3, N: 10, K: 64, parts: 3, bias: true, accumulate: true }, { M: 5, N: 7, K: 64 }],
};
const autoShapes: Case[] = [{ M: 1, N: 11, K: 64, bias: true }, { M: 9, N: 11, K: 64, parts: 2, bias: true, accumulate: true }];
const types = ['f32', 'f16', 'q8_0', 'q4_0'] as const;

describe('matmul', () => {
  it('reference backward-input matches finite differences', () => {
    const rng = new Rng(3);
    const [M, N, K] = [3, 4, 5];
    const w = toF64(rng.randn(N * K));
    const x = toF64(rng.randn(M * K));
    const dy = toF64(rng.randn(M * N));
    checkRefGrad('dx', (v) => dot(dy, matmulForwardRef(v, w, M, N, K)), x, matmulBackwardInputRef(dy, w, M, N, K));
  });

  for (const type of types) {
    eachVariant({ register: { matmul: { variant: 'register' } } }, `${type} forward and backward-input match the reference`, async () => {
      for (const c of shapes[type]) await checkMatmul(type, c, true);
    });
    // Forced matvec runs the forward only (the backward then takes 'register', checked above).
    eachVariant({ matvec: { matmul: { variant: 'matvec' } } }, `${type} forward matches the reference at M <= 8`, async () => {
      for (const c of vecShapes[type]) await checkMatmul(type, c, false);
    });
  }

  it('on a CPU adapter matvec rows equal the register variant\'s bit for bit (decoding batches agree)', async () => {
    if (!(await gpu()).caps.isCpu) return;
    for (const type of types) {
      const [M, N, K] = [5, 37, type === 'f32' ? 70 : 96];
      const rng = new Rng(11);
      const { w, wd, release } = await testWeight(type, N, K, rng);
      const x = rng.randn(M * K);
      const run = (variant: 'register' | 'matvec', y: Want) => {
        forceEnv({ matmul: { variant } });
        return checkOp({ label: `${type} ${variant}`, inputs: { x }, outputs: { y: M * N }, run: (rec, b) => matmulForward(rec, b.y, b.x, w, M), want: { y } });
      };
      try {
        // Both poisoned first and the register rows checked against the reference, so two idle kernels cannot agree.
        const reg = await run('register', { ref: matmulForwardRef(x, wd, M, N, K), atol: ATOL, rtol: RTOL });
        await run('matvec', { bytes: new Uint8Array(reg.y.buffer, reg.y.byteOffset, M * N * 4) });
      } finally {
        release();
      }
    }
  });

  it('matmulForward picks matvec for few rows on a CPU adapter, and matches the reference at M = 1, 9', async () => {
    const ctx = await gpu();
    if (ctx.caps.isCpu) {
      expect(defaultForwardVariant(ctx, 1)).toBe('matvec');
      expect(defaultForwardVariant(ctx, 8)).toBe('matvec');
      expect(defaultForwardVariant(ctx, 9)).toBe('register');
    }
    for (const type of ['q4_0', 'f16'] as const) for (const c of autoShapes) await checkMatmul(type, c, false);
  });
});
