// Matmul at Qwen2.5-0.5B's MLP shapes: gate/up (N = F, K = C) and down (N = C, K = F), M = o.tokens rows.
// Every weight type's forward and backward-input is reported against the roofline (bench/roofline.ts) at its shape.
// Decoding's forward (M = 1 and 4 rows: one token per sequence, matmulForward's matvec variant on a CPU adapter)
// is reported at the gate/up shape for every weight type. On a device with shader-f16 (where the default rows
// dequantize to f16), the quantized and f16 weights' rows at the gate/up shape are repeated with f32 dequantization
// (kernelEnv.matmul.f16 = false), so one run shows what f16 gains there.
import type { GpuContext } from '../src/gpu/context.ts';
import { kernelEnv } from '../src/kernels/env.ts';
import { matmulBackwardInput, matmulForward } from '../src/kernels/matmul/matmul.ts';
import { encodeWeight, type WeightType } from '../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight, type WeightTensor } from '../src/kernels/quant/tensor.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const M = o.tokens;
  const { C, F } = QWEN05;
  const rng = new Rng(0);
  const out: BenchCase[] = [];
  // Weights are created lazily per case and freed after it, so the bench never holds all eight at once.
  const weight = (type: WeightType, N: number, K: number): (() => WeightTensor) => {
    let w: WeightTensor | null = null;
    return () => (w ??= uploadWeight(ctx, `w_${type}_${N}x${K}`, type, encodeWeight(type, rng.randn(N * K, 0.05), N, K), N, K));
  };
  const x = ctx.upload('x', rng.randn(M * F)); // (M, max(C, F)) f32
  const y = ctx.buffer('y', M * F * 4); // (M, max(C, F)) f32
  const flops = (N: number, K: number) => 2 * M * N * K;
  for (const [N, K] of [[F, C], [C, F]]) {
    const wf = weight('f32', N, K);
    const rooflineShape = `${M}x${N}x${K}`;
    for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
      const w = type === 'f32' ? wf : weight(type, N, K);
      // The f32 forward is the roofline itself (bench/roofline.ts), which has its own row.
      if (type !== 'f32') out.push({ name: `matmul ${type} fwd ${M}x${N}x${K}`, flops: flops(N, K), matmulShaped: true, rooflineShape, record: (rec) => matmulForward(rec, y, x, w(), M) });
      // dX (M, K) = dY (M, N)·W: against the roofline with the same output width (K) and reduction (N).
      out.push({
        name: `matmul ${type} bwd-input ${M}x${N}x${K}`, flops: flops(N, K), matmulShaped: true, rooflineShape: `${M}x${K}x${N}`,
        record: (rec) => matmulBackwardInput(rec, y, x, w(), M),
        dispose: () => { if (type !== 'f32') releaseWeight(ctx, w()); },
      });
    }
    const last = out[out.length - 1];
    const prev = last.dispose;
    last.dispose = () => { prev?.(); releaseWeight(ctx, wf()); };
  }
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    const [N, K] = [F, C];
    const w = weight(type, N, K);
    const ms = [1, 4].filter((m) => m <= M); // x and y hold M rows
    ms.forEach((m, i) => out.push({
      name: `matmul ${type} decode fwd ${m}x${N}x${K}`, flops: 2 * m * N * K, matmulShaped: true, rooflineShape: `${m}x${N}x${K}`,
      record: (rec) => matmulForward(rec, y, x, w(), m),
      dispose: i === ms.length - 1 ? () => releaseWeight(ctx, w()) : undefined,
    }));
  }
  // Forced for the recording only (pipelines are chosen as a dispatch is recorded), so other cases keep 'auto'.
  const f32Weights = (record: () => void) => {
    const prev = kernelEnv.matmul.f16;
    kernelEnv.matmul.f16 = false;
    try {
      record();
    } finally {
      kernelEnv.matmul.f16 = prev;
    }
  };
  for (const type of ctx.caps.f16 ? (['f16', 'q8_0', 'q4_0'] as const) : []) {
    const [N, K] = [F, C];
    const w = weight(type, N, K);
    out.push({
      name: `matmul ${type} fwd ${M}x${N}x${K} f32 dequant`, flops: flops(N, K), matmulShaped: true, rooflineShape: `${M}x${N}x${K}`,
      record: (rec) => f32Weights(() => matmulForward(rec, y, x, w(), M)),
    });
    out.push({
      name: `matmul ${type} bwd-input ${M}x${N}x${K} f32 dequant`, flops: flops(N, K), matmulShaped: true, rooflineShape: `${M}x${K}x${N}`,
      record: (rec) => f32Weights(() => matmulBackwardInput(rec, y, x, w(), M)),
      dispose: () => releaseWeight(ctx, w()),
    });
  }
  const lastCase = out[out.length - 1];
  const prevDispose = lastCase.dispose;
  lastCase.dispose = () => { prevDispose?.(); ctx.release(x); ctx.release(y); };
  return out;
}
