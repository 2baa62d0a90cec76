// The roofline every matmul-shaped kernel is measured against: the fastest plain f32 matmul this adapter runs at
// a given M x N x K. Two candidates: Y = X·Wᵀ (W (N, K), the layout of a base weight: matmulForward) and Y = X·B
// (B (K, N) row-major: the backward-input kernel); whichever is faster on this adapter is the roofline.
import type { GpuContext } from '../src/gpu/context.ts';
import type { Recorder } from '../src/gpu/recorder.ts';
import { matmulRoofline } from '../src/kernels/matmul/matmul.ts';
import { releaseWeight, uploadWeight } from '../src/kernels/quant/tensor.ts';
import { Rng } from '../src/util/rng.ts';
import { timeOnce, type BenchCase } from './harness.ts';

export async function rooflineCase(ctx: GpuContext, M: number, N: number, K: number): Promise<BenchCase> {
  const rng = new Rng(M * 7 + N + K);
  const wt = uploadWeight(ctx, `roofline_w_${N}x${K}`, 'f32', new Uint8Array(rng.randn(N * K, 0.05).buffer), N, K); // (N, K) f32
  const b = uploadWeight(ctx, `roofline_b_${K}x${N}`, 'f32', new Uint8Array(rng.randn(N * K, 0.05).buffer), K, N); // (K, N) f32
  const x = ctx.upload('roofline_x', rng.randn(M * K)); // (M, K) f32
  const y = ctx.buffer('roofline_y', M * N * 4); // (M, N) f32
  const nt = (rec: Recorder) => matmulRoofline(rec, y, x, wt, M, 'nt');
  const nn = (rec: Recorder) => matmulRoofline(rec, y, x, b, M, 'nn');
  // Pick the faster: best of five alternating runs each, after a warm-up.
  await timeOnce(ctx, nt);
  await timeOnce(ctx, nn);
  let [tNt, tNn] = [Infinity, Infinity];
  for (let i = 0; i < 5; i++) {
    tNt = Math.min(tNt, await timeOnce(ctx, nt));
    tNn = Math.min(tNn, await timeOnce(ctx, nn));
  }
  const useNn = tNn < tNt;
  const unused = useNn ? wt : b;
  releaseWeight(ctx, unused);
  return {
    name: `matmul roofline f32 ${M}x${N}x${K} (${useNn ? 'X·B' : 'X·Wᵀ'})`, flops: 2 * M * N * K, matmulShaped: true,
    record: useNn ? nn : nt,
    dispose: () => {
      releaseWeight(ctx, useNn ? b : wt);
      ctx.release(x);
      ctx.release(y);
    },
  };
}
