// A base weight on the GPU: (rows x K) in one of ggml's types, split by rows into parts when it is larger
// than one storage binding (see gpu/split.ts). Kernels that read weights loop over parts and dispatch once per part.
import type { GpuContext } from '../../gpu/context.ts';
import { splitRows } from '../../gpu/split.ts';
import { bytesPerRow, checkK, type WeightType } from './formats.ts';

export interface WeightPart {
  buffer: GPUBuffer; // the part's rows, packed in `type`, as array<u32>
  start: number; // first row (inclusive)
  end: number; // end row (exclusive)
}

export interface WeightTensor {
  name: string;
  type: WeightType;
  rows: number; // N: output features (or vocabulary rows of an embedding)
  K: number; // input features
  parts: WeightPart[];
  byteLength: number;
}

/** Uploads already-encoded weight bytes (see formats.ts encodeWeight), splitting by rows if needed. */
export function uploadWeight(ctx: GpuContext, name: string, type: WeightType, bytes: Uint8Array, rows: number, K: number, maxPartBytes = ctx.caps.maxStorageBufferBindingSize): WeightTensor {
  checkK(type, K, name);
  const bpr = bytesPerRow(type, K);
  if (bytes.byteLength !== bpr * rows) throw new Error(`${name}: ${bytes.byteLength} bytes for ${rows}x${K} ${type}, expected ${bpr * rows}`);
  const parts = splitRows(rows, bpr, Math.min(maxPartBytes, ctx.caps.maxBufferSize)).map((p) => {
    const buffer = ctx.buffer(`${name}[${p.start}:${p.end}]`, p.byteLength);
    ctx.write(buffer, bytes.subarray(p.byteOffset, p.byteOffset + p.byteLength));
    return { buffer, start: p.start, end: p.end };
  });
  return { name, type, rows, K, parts, byteLength: bytes.byteLength };
}

export function releaseWeight(ctx: GpuContext, w: WeightTensor): void {
  for (const p of w.parts) ctx.release(p.buffer);
}
