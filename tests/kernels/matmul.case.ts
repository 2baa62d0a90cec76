// The matmul cases shared by matmul.test.ts and matmul-shared.test.ts (two files so that their pipeline compiles,
// slow on SwiftShader, run in parallel): shapes off every tile size, and one check of the forward (and
// backward-input) against the float64 reference under whatever variant the test forced through kernelEnv.
import { matmulBackwardInput, matmulForward } from '../../src/kernels/matmul/matmul.ts';
import { matmulBackwardInputRef, matmulForwardRef } from '../../src/kernels/matmul/matmul.ref.ts';
import { bytesPerRow, decodeWeight, encodeWeight, type WeightType } from '../../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp } from './op.ts';

// f32 sums of K products of O(1) terms: a few ulps of the partial sums' magnitude.
export const ATOL = 2e-5;
export const RTOL = 1e-4;

export interface Case { M: number; N: number; K: number; parts?: number; bias?: boolean; accumulate?: boolean }

// Shapes off every tile size (4x4 register tiles, 64x64 shared tiles, reduction chunks of 8); each type also runs
// one multi-part weight with bias and accumulation. Two flag combinations per type keep pipeline compiles
// (slow on SwiftShader) down.
export const shapes: Record<WeightType, Case[]> = {
  f32: [{ M: 1, N: 1, K: 1 }, { M: 5, N: 7, K: 13 }, { M: 67, N: 70, K: 36 }, { M: 6, N: 11, K: 67, parts: 3, bias: true, accumulate: true }],
  f16: [{ M: 5, N: 9, K: 34 }, { M: 66, N: 65, K: 64 }, { M: 7, N: 13, K: 70, parts: 2, bias: true, accumulate: true }],
  q8_0: [{ M: 5, N: 9, K: 32 }, { M: 65, N: 67, K: 96 }, { M: 7, N: 10, K: 64, parts: 3, bias: true, accumulate: true }],
  q4_0: [{ M: 5, N: 9, K: 32 }, { M: 65, N: 67, K: 96 }, { M: 7, N: 10, K: 64, parts: 3, bias: true, accumulate: true }],
};

/** A weight of `type` uploaded in `parts` parts (a small maxPartBytes; the last part ragged), and what it decodes to. */
export async function testWeight(type: WeightType, N: number, K: number, rng: Rng, parts?: number) {
  const ctx = await gpu();
  const bytes = encodeWeight(type, rng.randn(N * K, 0.5), N, K);
  const maxPart = parts ? Math.ceil(N / parts) * bytesPerRow(type, K) : undefined;
  const w = uploadWeight(ctx, 'w', type, bytes, N, K, maxPart);
  if (parts && w.parts.length !== parts) throw new Error(`expected ${parts} parts, got ${w.parts.length}`);
  return { w, wd: decodeWeight(type, bytes, N, K), release: () => releaseWeight(ctx, w) };
}

/**
 * The extra absolute error of weights dequantized to f16 (each rounded by at most 2^-11 relative): 2^-11 times the
 * largest Σ_k |a_k·w_k| of an output, where a is x (forward) or dy (backward).
 */
function halfAtol(a: Float32Array, wd: ArrayLike<number>, M: number, N: number, K: number, backward: boolean): number {
  const abs = (v: ArrayLike<number>) => Float64Array.from(v, Math.abs);
  const bound = backward ? matmulBackwardInputRef(abs(a), abs(wd), M, N, K) : matmulForwardRef(abs(a), abs(wd), M, N, K);
  return 2 ** -11 * bound.reduce((m, v) => Math.max(m, v), 0);
}

/**
 * y = x·Wᵀ (+ bias) (+ y0), and where `backward`, dx = dy·W (+ dx0), against the reference; outputs poisoned unless
 * accumulating. `half`: the weights were dequantized to f16 (kernelEnv.matmul.f16 on a device with shader-f16).
 */
export async function checkMatmul(type: WeightType, c: Case, backward: boolean, half = false): Promise<void> {
  const { M, N, K } = c;
  const rng = new Rng(M * 1000 + N * 10 + K);
  const { w, wd, release } = await testWeight(type, N, K, rng, c.parts);
  const x = rng.randn(M * K);
  const dy = rng.randn(M * N);
  const bias = c.bias ? rng.randn(N) : undefined;
  const y0 = rng.randn(M * N);
  const dx0 = rng.randn(M * K);
  const yRef = matmulForwardRef(x, wd, M, N, K, bias).map((v, i) => v + (c.accumulate ? y0[i] : 0));
  const dxRef = matmulBackwardInputRef(dy, wd, M, N, K).map((v, i) => v + (c.accumulate ? dx0[i] : 0));
  try {
    await checkOp({
      label: `${type} M=${M} N=${N} K=${K}`,
      inputs: bias ? { x, dy, bias } : { x, dy } as Record<string, Float32Array>,
      outputs: { y: c.accumulate ? y0 : M * N, dx: c.accumulate ? dx0 : M * K },
      run: (rec, b) => {
        matmulForward(rec, b.y, b.x, w, M, { bias: bias && b.bias, accumulate: c.accumulate });
        if (backward) matmulBackwardInput(rec, b.dx, b.dy, w, M, { accumulate: c.accumulate });
      },
      want: {
        y: { ref: yRef, atol: ATOL + (half ? halfAtol(x, wd, M, N, K, false) : 0), rtol: RTOL },
        ...(backward ? { dx: { ref: dxRef, atol: ATOL + (half ? halfAtol(dy, wd, M, N, K, true) : 0), rtol: RTOL } } : {}),
      },
    });
  } finally {
    release();
  }
}
