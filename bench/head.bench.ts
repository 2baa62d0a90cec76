// Output head at Qwen2.5-0.5B's vocabulary against a (151936, 896) q8_0 lm_head, for the S unmasked positions of
// o.tokens: half of them, the prompt's half being masked (a translation pair's source and its translation).
import type { GpuContext } from '../src/gpu/context.ts';
import { f32ToF16Bits } from '../src/kernels/quant/formats.ts';
import { outputHeadBackward, outputHeadForward, releaseHeadScratch } from '../src/kernels/head/head.ts';
import { releaseWeight, uploadWeight } from '../src/kernels/quant/tensor.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

/** Random q8_0 bytes straight away: quantizing 136M floats on the host would dominate the bench's start-up. */
function randomQ8(rng: Rng, rows: number, K: number): Uint8Array {
  const blocks = (rows * K) / 32;
  const bytes = new Uint8Array(blocks * 34);
  const words = new Uint32Array(bytes.buffer, 0, bytes.byteLength >> 2);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();
  const dv = new DataView(bytes.buffer);
  const d = f32ToF16Bits(0.02 / 127);
  for (let b = 0; b < blocks; b++) dv.setUint16(b * 34, d, true);
  return bytes;
}

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const { C, V } = QWEN05;
  const S = Math.max(1, Math.round(o.tokens / 2));
  const M = o.tokens;
  const rng = new Rng(0);
  const w = uploadWeight(ctx, 'lm_head', 'q8_0', randomQ8(rng, V, C), V, C);
  const h = ctx.upload('h', rng.randn(M * C)); // (M, C) f32
  const rows = ctx.upload('rows', Uint32Array.from({ length: S }, (_, i) => M - S + i)); // (S) u32: the second half
  const labels = ctx.upload('labels', Uint32Array.from({ length: S }, () => rng.int(V))); // (S) u32
  const dlogp = ctx.upload('dlogp', rng.randn(S)); // (S) f32
  const [logp, lsum] = ['logp', 'logitSum'].map((l) => ctx.buffer(l, S * 4)); // (S) f32 each
  // The backward's cost does not depend on lse's value, and a forward here would cost seconds even when filtered out.
  const lse = ctx.upload('lse', new Float32Array(S).fill(Math.log(V))); // (S) f32
  const dh = ctx.buffer('dh', M * C * 4); // (M, C) f32
  const dispose = () => {
    [h, rows, labels, dlogp, logp, lse, lsum, dh].forEach((b) => ctx.release(b));
    releaseWeight(ctx, w);
    releaseHeadScratch(ctx);
  };
  const flops = 2 * S * V * C;
  return [
    {
      name: `head fwd q8_0 S=${S} V=${V} C=${C}`, flops, matmulShaped: true,
      record: (r) => outputHeadForward(r, logp, lse, lsum, h, rows, labels, w, S),
    },
    {
      // Two products, as attention's backward counts its recomputed scores: the logits again (no (S, V) buffer
      // is kept), then dh = (softmax − onehot)·W.
      name: `head bwd q8_0 S=${S} V=${V} C=${C}`, flops: 2 * flops, matmulShaped: true,
      record: (r) => outputHeadBackward(r, dh, dlogp, h, rows, labels, lse, w, S),
      dispose,
    },
  ];
}
