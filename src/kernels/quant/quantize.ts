// Quantization on the GPU (quantize.wgsl): f32/f16/bf16 rows -> any WeightType, bit-identical to formats.ts.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { splitRows } from '../../gpu/split.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import { bytesPerRow, checkK, type WeightType } from './formats.ts';
import src from './quantize.wgsl?raw';
import type { WeightTensor } from './tensor.ts';

export type SourceType = 'f32' | 'f16' | 'bf16';

export function sourceBytes(srcType: SourceType): number {
  return srcType === 'f32' ? 4 : 2;
}

export const quantizeShader = defineShader(
  'quantize',
  'quantize.wgsl: SRC f32|f16|bf16, DST f32|f16|q8_0|q4_0',
  { SRC: 'bf16' as SourceType, DST: 'q4_0' as WeightType },
  ({ SRC: s, DST: d }) =>
    preprocess(src, {
      SRC_F32: s === 'f32', SRC_F16: s === 'f16', SRC_BF16: s === 'bf16',
      DST_F32: d === 'f32', DST_F16: d === 'f16', DST_Q8_0: d === 'q8_0', DST_Q4_0: d === 'q4_0',
    }),
);

function pipe(ctx: GpuContext, SRC: SourceType, DST: WeightType) {
  return ctx.compile(quantizeShader, { SRC, DST });
}

// Invocations: one per element (f32), per word of two halves (f16), per pair of blocks (q8_0, q4_0).
function invocations(dstType: WeightType, n: number): number {
  switch (dstType) {
    case 'f32': return n;
    case 'f16': return Math.ceil(n / 2);
    default: return Math.ceil(n / 64);
  }
}

function record(rec: Recorder, out: GPUBuffer, outWord0: number, source: GPUBuffer, srcType: SourceType, dstType: WeightType, rows: number, K: number): void {
  checkK(dstType, K, 'quantizeRows');
  const n = rows * K;
  rec.dispatch({
    kernel: 'quantize', shapes: `rows=${rows} K=${K} ${srcType}->${dstType}`, pipeline: pipe(rec.ctx, srcType, dstType),
    params: params([n, outWord0, 0, 0]), buffers: [out, source], workgroups: grid1d(rec.ctx, invocations(dstType, n), 64),
  });
}

/** out (rows, K) encoded as dstType  <-  src (rows, K) in srcType (f16/bf16 packed two per word). */
export function quantizeRows(rec: Recorder, out: GPUBuffer, src: GPUBuffer, srcType: SourceType, dstType: WeightType, rows: number, K: number): void {
  record(rec, out, 0, src, srcType, dstType, rows, K);
}

/**
 * Quantizes host bytes (rows, K) in srcType into a new WeightTensor of dstType on the GPU. The source goes up in
 * row chunks that each fit a binding (and at most `maxChunkBytes`), each chunk is quantized into its place in the
 * result's parts and freed before the next: the extra memory is about one chunk.
 */
export async function quantizeToWeight(
  ctx: GpuContext, name: string, src: Uint8Array, srcType: SourceType, dstType: WeightType, rows: number, K: number,
  opts: { maxPartBytes?: number; maxChunkBytes?: number } = {},
): Promise<WeightTensor> {
  checkK(dstType, K, name);
  const srcRow = K * sourceBytes(srcType);
  if (src.byteLength !== rows * srcRow) throw new Error(`${name}: ${src.byteLength} source bytes for ${rows}x${K} ${srcType}, expected ${rows * srcRow}`);
  const binding = Math.min(ctx.caps.maxStorageBufferBindingSize, ctx.caps.maxBufferSize);
  const bpr = bytesPerRow(dstType, K);
  const layout = splitRows(rows, bpr, Math.min(opts.maxPartBytes ?? binding, binding));
  // A chunk must start on a whole output word: with 34- or 18-byte blocks and an odd block count per row,
  // a row boundary falls mid-word every other row, so chunks then hold an even number of rows.
  const rowAlign = bpr % 4 === 0 ? 1 : 2;
  const chunkRows = Math.max(rowAlign, Math.floor(Math.min(opts.maxChunkBytes ?? 64 * 2 ** 20, binding) / srcRow / rowAlign) * rowAlign);
  const parts: WeightTensor['parts'] = [];
  try {
    for (const part of layout) {
      const buffer = ctx.buffer(`${name}[${part.start}:${part.end}]`, part.byteLength);
      parts.push({ buffer, start: part.start, end: part.end });
      for (let r0 = part.start; r0 < part.end; r0 += chunkRows) {
        const r1 = Math.min(part.end, r0 + chunkRows);
        const chunk = ctx.upload(`${name}:src[${r0}:${r1}]`, src.subarray(r0 * srcRow, r1 * srcRow));
        try {
          const rec = ctx.recorder();
          record(rec, buffer, ((r0 - part.start) * bpr) / 4, chunk, srcType, dstType, r1 - r0, K);
          await rec.submit();
        } finally {
          ctx.release(chunk);
        }
      }
    }
  } catch (e) {
    for (const p of parts) ctx.release(p.buffer);
    throw e;
  }
  return { name, type: dstType, rows, K, parts, byteLength: bpr * rows };
}
