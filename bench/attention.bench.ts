import type { GpuContext } from '../src/gpu/context.ts';
import { attentionBackward, attentionDsBytes, attentionForward, attentionUsesDs, attentionSubgroups, attentionVariant, type AttnShape } from '../src/kernels/attention/attention.ts';
import { kernelEnv } from '../src/kernels/env.ts';
import type { Recorder } from '../src/gpu/recorder.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const { H, Hkv, D } = QWEN05;
  const variant = attentionVariant(ctx, D);
  const out: BenchCase[] = [];
  for (const T of [...new Set([o.tokens, 256])]) {
    const s: AttnShape = { B: 1, Tq: T, Tk: T, H, Hkv, D };
    const rng = new Rng(T);
    const q = ctx.upload('q', rng.randn(T * H * D)); // (T, H*D)
    const k = ctx.upload('k', rng.randn(T * Hkv * D)); // (T, Hkv*D)
    const v = ctx.upload('v', rng.randn(T * Hkv * D)); // (T, Hkv*D)
    const dout = ctx.upload('dout', rng.randn(T * H * D)); // (T, H*D)
    const o_ = ctx.buffer('out', T * H * D * 4); // (T, H*D)
    const lse = ctx.buffer('lse', H * T * 4); // (H, T)
    const dq = ctx.buffer('dq', T * H * D * 4); // (T, H*D)
    const dk = ctx.buffer('dk', T * Hkv * D * 4); // (T, Hkv*D)
    const dv = ctx.buffer('dv', T * Hkv * D * 4); // (T, Hkv*D)
    // The dS scratch the training step's workspace gives the backward where it uses one.
    const ds = attentionUsesDs(ctx, s) ? ctx.buffer('ds', attentionDsBytes(s)) : null; // (H, T, T) f32
    // The backward case reads a real forward's out and lse.
    const rec = ctx.recorder();
    attentionForward(rec, o_, lse, q, k, v, null, s);
    await rec.submit();
    // Causal: half of the T x T score matrix; forward is 2 matmuls (QK^T, PV), backward 5 (recomputed QK^T, dP, dV, dK,
    // dQ), as FlashAttention-2 counts it (without a dS scratch the loop variant computes QK^T and dP twice: 7).
    const half = (H * T * T * D) / 2;
    out.push({
      name: `attention ${variant} fwd T=${T} H=${H}/${Hkv} D=${D}`, flops: 4 * half, matmulShaped: true,
      record: (r) => attentionForward(r, o_, lse, q, k, v, null, s),
    });
    out.push({
      name: `attention ${variant} bwd T=${T} H=${H}/${Hkv} D=${D}`, flops: 10 * half, matmulShaped: true,
      record: (r) => attentionBackward(r, dq, dk, dv, dout, q, k, v, o_, lse, null, s, ds),
      dispose: () => [q, k, v, dout, o_, lse, dq, dk, dv, ds].forEach((b) => ctx.release(b)),
    });
    // Where scores are summed by subgroup shuffles (the tiled kernels; the loop forward, whose row groups then span 4
    // lanes), the path without them beside it: shared-memory sums, or one lane per row group.
    if (attentionSubgroups(ctx)) {
      const without = (record: (r: Recorder) => void) => (r: Recorder) => {
        const was = kernelEnv.attention.subgroups;
        kernelEnv.attention.subgroups = false;
        record(r);
        kernelEnv.attention.subgroups = was;
      };
      const [fwd, bwd] = out.splice(-2);
      if (variant === 'tiled') {
        out.push(
          { ...fwd, name: `${fwd.name} (subgroup sums)`, dispose: undefined },
          { ...fwd, name: `${fwd.name} (shared sums)`, record: without(fwd.record!), dispose: undefined },
          { ...bwd, name: `${bwd.name} (subgroup sums)`, dispose: undefined },
          { ...bwd, name: `${bwd.name} (shared sums)`, record: without(bwd.record!) },
        );
      } else {
        out.push(
          { ...fwd, name: `${fwd.name} (4 lanes per row group)`, dispose: undefined },
          { ...fwd, name: `${fwd.name} (1 lane per row group)`, record: without(fwd.record!), dispose: undefined },
          bwd,
        );
      }
    }
  }
  return out;
}
