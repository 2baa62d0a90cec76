// The roofline every matmul-shaped kernel is measured against: the fastest plain f32 Y = X·Wᵀ this adapter runs
// (matmulRoofline: matmulForward's own variant for an f32 weight), at a given M x N x K.
import type { GpuContext } from '../src/gpu/context.ts';
import { matmulRoofline } from '../src/kernels/matmul/matmul.ts';
import { releaseWeight, uploadWeight } from '../src/kernels/quant/tensor.ts';
import { Rng } from '../src/util/rng.ts';
import type { BenchCase } from './harness.ts';

export function rooflineCase(ctx: GpuContext, M: number, N: number, K: number): BenchCase {
  const rng = new Rng(M * 7 + N + K);
  const w = uploadWeight(ctx, `roofline_w_${N}x${K}`, 'f32', new Uint8Array(rng.randn(N * K, 0.05).buffer), N, K); // (N, K) f32
  const x = ctx.upload('roofline_x', rng.randn(M * K)); // (M, K) f32
  const y = ctx.buffer('roofline_y', M * N * 4); // (M, N) f32
  return {
    name: `matmul roofline f32 ${M}x${N}x${K}`, flops: 2 * M * N * K, matmulShaped: true,
    record: (rec) => matmulRoofline(rec, y, x, w, M),
    dispose: () => {
      releaseWeight(ctx, w);
      ctx.release(x);
      ctx.release(y);
    },
  };
}
