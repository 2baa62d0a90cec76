import type { GpuContext } from '../src/gpu/context.ts';
import { loraBackward, loraForward, type LoraDropout } from '../src/kernels/lora/lora.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const { C, F, R } = QWEN05;
  const M = o.tokens;
  const rng = new Rng(0);
  const out: BenchCase[] = [];
  // q/o projections (C→C), gate/up (C→F), down (F→C); dropout shows the cost of the hashed mask.
  const shapes: [number, number, LoraDropout | undefined][] = [[C, C, undefined], [C, F, undefined], [F, C, undefined], [C, F, { p: 0.05, seed: 1 }]];
  for (const [K, N, dropout] of shapes) {
    const x = ctx.upload('x', rng.randn(M * K)); // (M, K) f32
    const a = ctx.upload('a', rng.randn(R * K, 0.03)); // (R, K) f32
    const b = ctx.upload('b', rng.randn(N * R, 0.03)); // (N, R) f32
    const dy = ctx.upload('dy', rng.randn(M * N)); // (M, N) f32
    const y = ctx.buffer('y', M * N * 4); // (M, N) f32
    const dx = ctx.buffer('dx', M * K * 4); // (M, K) f32
    const u = ctx.buffer('u', M * R * 4); // (M, R) f32
    const du = ctx.buffer('du', M * R * 4); // (M, R) f32
    const dA = ctx.buffer('dA', R * K * 4); // (R, K) f32
    const dB = ctx.buffer('dB', N * R * 4); // (N, R) f32
    const dispose = () => [x, a, b, dy, y, dx, u, du, dA, dB].forEach((t) => ctx.release(t));
    const tag = `${M}x${K}->${N} r${R}${dropout ? ` p${dropout.p}` : ''}`;
    out.push({
      name: `lora fwd ${tag}`, reps: 4, flops: 2 * M * R * (K + N), matmulShaped: true,
      record: (rec) => loraForward(rec, y, u, x, a, b, M, N, K, R, 2, dropout),
    });
    out.push({
      name: `lora bwd ${tag}`, reps: 4, flops: 4 * M * R * (K + N), matmulShaped: true, dispose,
      record: (rec) => loraBackward(rec, dA, dB, dx, dy, x, u, a, b, du, M, N, K, R, 2, { accumulateGrads: true, dropout }),
    });
  }
  return out;
}
