// Output head at Qwen2.5-0.5B's vocabulary against a (151936, 896) q8_0 lm_head, for the S unmasked positions of
// o.tokens: half of them, the prompt's half being masked (a translation pair's source and its translation).
import type { GpuContext } from '../src/gpu/context.ts';
import type { Recorder } from '../src/gpu/recorder.ts';
import { f32ToF16Bits } from '../src/kernels/quant/formats.ts';
import { outputHeadForward, releaseHeadScratch } from '../src/kernels/head/head.ts';
import { releaseWeight, uploadWeight, type WeightTensor } from '../src/kernels/quant/tensor.ts';
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

// The head takes seconds, so it is timed in SLICES vocabulary slices of V/SLICES rows, each a head of its own over
// those rows (one weight part each), alternated with roofline runs (bench/harness.ts runSliced). Its cost is linear
// in V; each slice adds only its combine pass over the partials.
const SLICES = 8;

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const { C, V } = QWEN05;
  const S = Math.max(1, Math.round(o.tokens / 2));
  const M = o.tokens;
  const rng = new Rng(0);
  const sliceRows = Math.ceil(V / SLICES);
  const w = uploadWeight(ctx, 'lm_head', 'q8_0', randomQ8(rng, V, C), V, C, sliceRows * 34 * (C / 32));
  // Each slice as a head over its own rows: vocabulary ids 0 .. rows - 1 of that slice.
  const views: WeightTensor[] = w.parts.map((p) => ({ ...w, rows: p.end - p.start, parts: [{ ...p, start: 0, end: p.end - p.start }] }));
  const h = ctx.upload('h', rng.randn(M * C)); // (M, C) f32
  const rows = ctx.upload('rows', Uint32Array.from({ length: S }, (_, i) => M - S + i)); // (S) u32: the second half
  const labels = ctx.upload('labels', Uint32Array.from({ length: S }, () => rng.int(Math.min(...views.map((v) => v.rows))))); // (S) u32
  const [logp, lse, lsum] = ['logp', 'lse', 'logitSum'].map((l) => ctx.buffer(l, S * 4)); // (S) f32 each
  const dir = ctx.buffer('dir', S * C * 4); // (S, C) f32
  const dispose = () => {
    [h, rows, labels, logp, lse, lsum, dir].forEach((b) => ctx.release(b));
    releaseWeight(ctx, w);
    releaseHeadScratch(ctx);
  };
  const flops = (v: number) => 2 * S * v * C;
  return [
    {
      name: `head fwd q8_0 S=${S} V=${V} C=${C}`, flops: flops(V), matmulShaped: true,
      slices: views.map((wv) => ({ flops: flops(wv.rows), record: (r: Recorder) => outputHeadForward(r, logp, lse, lsum, h, rows, labels, wv, S) })),
    },
    {
      // Two products: the logits, then Σ softmax·W (∂logp/∂h), which leaves the backward one (S, C) scaling pass
      // (microseconds, not timed here). Before it was fused, training ran the forward, then a backward that
      // recomputed the logits: 6·S·V·C. Side by side on SwiftShader (load ~6, 2 vCPUs): forward 12.4 s + backward
      // 37.7 s (50% of the roofline) before, this 21.2 s (56%; 58-69% in two more runs) after.
      name: `head train fwd q8_0 S=${S} V=${V} C=${C}`, flops: 2 * flops(V), matmulShaped: true,
      slices: views.map((wv) => ({ flops: 2 * flops(wv.rows), record: (r: Recorder) => outputHeadForward(r, logp, lse, lsum, h, rows, labels, wv, S, dir) })),
      dispose,
    },
  ];
}
