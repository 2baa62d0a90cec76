// NaN and Inf in model files are named on load, before anything is quantized: under q4_0 a NaN weight
// quantizes to finite garbage (the block's scale absorbs it), so the loss would even look normal.
// The scan reads each element's exponent bits: every format here marks NaN/Inf with an all-ones exponent.
import type { HostDtype, HostTensor } from './model.ts';

/** Bytes per block and per element for the formats the loader reads. */
const BLOCK: Record<'Q8_0' | 'Q4_0', { bytes: number; values: number }> = { Q8_0: { bytes: 34, values: 32 }, Q4_0: { bytes: 18, values: 32 } };

/** Index of the first non-finite element (for Q8_0/Q4_0: the first element of a block whose scale is), or -1. */
export function firstNonFinite(dtype: HostDtype, data: Uint8Array): number {
  switch (dtype) {
    case 'F32': {
      const n = data.byteLength >> 2;
      if (data.byteOffset % 4 === 0) {
        const u = new Uint32Array(data.buffer, data.byteOffset, n);
        for (let i = 0; i < n; i++) if ((u[i] & 0x7f800000) === 0x7f800000) return i;
        return -1;
      }
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < n; i++) if ((dv.getUint32(i * 4, true) & 0x7f800000) === 0x7f800000) return i;
      return -1;
    }
    case 'F16':
    case 'BF16': {
      const mask = dtype === 'F16' ? 0x7c00 : 0x7f80;
      const n = data.byteLength >> 1;
      if (data.byteOffset % 2 === 0) {
        const u = new Uint16Array(data.buffer, data.byteOffset, n);
        for (let i = 0; i < n; i++) if ((u[i] & mask) === mask) return i;
        return -1;
      }
      for (let i = 0; i < n; i++) if (((data[2 * i] | (data[2 * i + 1] << 8)) & mask) === mask) return i;
      return -1;
    }
    case 'Q8_0':
    case 'Q4_0': {
      // The f16 scale leads each block; the quants are integers and always finite.
      const { bytes, values } = BLOCK[dtype];
      for (let b = 0; b * bytes < data.byteLength; b++) {
        const h = data[b * bytes] | (data[b * bytes + 1] << 8);
        if ((h & 0x7c00) === 0x7c00) return b * values;
      }
      return -1;
    }
  }
}

function describe(i: number, shape: number[]): string {
  if (shape.length !== 2) return `element ${i}`;
  return `row ${Math.floor(i / shape[1])}, column ${i % shape[1]}`;
}

/** Throws naming the tensor and the first bad element when `t` holds NaN or Inf. */
export function assertFinite(t: HostTensor, what: string): void {
  const i = firstNonFinite(t.dtype, t.data);
  if (i < 0) return;
  const kind = t.dtype === 'Q8_0' || t.dtype === 'Q4_0' ? `a non-finite block scale (${t.dtype}) at ${describe(i, t.shape)}` : `a non-finite value (NaN or Inf) at ${describe(i, t.shape)}`;
  throw new Error(`${what} holds ${kind}; the model file is damaged (re-download or re-convert it)`);
}

/** f32 values (adapters, checkpoints): the first non-finite one named. */
export function assertFiniteF32(values: Float32Array, shape: number[], what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${what} holds ${values[i]} at ${describe(i, shape)}; the file is damaged`);
  }
}
