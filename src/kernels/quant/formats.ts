// ggml's weight formats on the host: exact reference rounding (ggml-quants.c, quantize_row_q*_ref),
// so that GGUF files load unchanged and results match llama.cpp bit for bit.
// Layouts (row-major, blocks of 32 along the input dimension K):
//   Q8_0: {f16 d, i8 q[32]}  34 bytes, value = q*d
//   Q4_0: {f16 d, u8 qs[16]} 18 bytes, element j in the low nibble of qs[j], j+16 in the high nibble, value = (q-8)*d
//   F16:  IEEE half, 2 bytes;  F32: 4 bytes.

import { bf16BitsToF32, f16BitsToF32, f32ToF16Bits, roundF16 } from '../../util/f16.ts';

// The IEEE half / bfloat16 codecs live in util/f16.ts (io and onnx use them without the kernels); re-exported for the kernels' callers.
export { bf16BitsToF32, f16BitsToF32, f32ToF16Bits, roundF16 };

export type WeightType = 'f32' | 'f16' | 'q8_0' | 'q4_0';
export const QK = 32;

export function bytesPerRow(type: WeightType, K: number): number {
  switch (type) {
    case 'f32':
      return 4 * K;
    case 'f16':
      return 2 * K;
    case 'q8_0':
      return (K / QK) * 34;
    case 'q4_0':
      return (K / QK) * 18;
  }
}

export function checkK(type: WeightType, K: number, what = 'weight'): void {
  if ((type === 'q8_0' || type === 'q4_0') && K % QK !== 0) {
    throw new Error(`${what}: ${type} needs the input dimension to be a multiple of ${QK}, got ${K}`);
  }
  if (type === 'f16' && K % 2 !== 0) throw new Error(`${what}: f16 rows must have an even length, got ${K}`);
}

const fr = Math.fround;

// quantizeQ8_0 and quantizeQ4_0 repeat their block loop on purpose: each mirrors its llama.cpp reference
// (ggml-quants.c quantize_row_*_ref) line for line, so a bit-exact difference can be traced to one line.
/** quantize_row_q8_0_ref for `rows` rows of K. */
export function quantizeQ8_0(x: ArrayLike<number>, rows: number, K: number): Uint8Array {
  checkK('q8_0', K);
  const nb = K / QK;
  const out = new Uint8Array(rows * nb * 34);
  const dv = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const base = r * K + b * QK;
      let amax = 0;
      for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(fr(x[base + j])));
      const d = fr(amax / 127);
      const id = d ? fr(1 / d) : 0;
      const o = (r * nb + b) * 34;
      dv.setUint16(o, f32ToF16Bits(d), true);
      for (let j = 0; j < QK; j++) {
        const v = fr(fr(x[base + j]) * id);
        dv.setInt8(o + 2 + j, Math.sign(v) * Math.round(Math.abs(v))); // roundf: half away from zero
      }
    }
  }
  return out;
}

/** quantize_row_q4_0_ref for `rows` rows of K. */
export function quantizeQ4_0(x: ArrayLike<number>, rows: number, K: number): Uint8Array {
  checkK('q4_0', K);
  const nb = K / QK;
  const out = new Uint8Array(rows * nb * 18);
  const dv = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const base = r * K + b * QK;
      let amax = 0;
      let max = 0;
      for (let j = 0; j < QK; j++) {
        const v = fr(x[base + j]);
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const d = fr(max / -8);
      const id = d ? fr(1 / d) : 0;
      const o = (r * nb + b) * 18;
      dv.setUint16(o, f32ToF16Bits(d), true);
      for (let j = 0; j < QK / 2; j++) {
        const x0 = fr(fr(x[base + j]) * id);
        const x1 = fr(fr(x[base + QK / 2 + j]) * id);
        const q0 = Math.min(15, Math.trunc(fr(x0 + 8.5)));
        const q1 = Math.min(15, Math.trunc(fr(x1 + 8.5)));
        out[o + 2 + j] = q0 | (q1 << 4);
      }
    }
  }
  return out;
}

/** Packs f32 values into the given weight type's bytes (rows x K, row-major). */
export function encodeWeight(type: WeightType, x: ArrayLike<number>, rows: number, K: number): Uint8Array {
  checkK(type, K);
  switch (type) {
    case 'f32':
      return new Uint8Array(Float32Array.from(x as ArrayLike<number>).buffer);
    case 'f16': {
      const h = new Uint16Array(rows * K);
      for (let i = 0; i < h.length; i++) h[i] = f32ToF16Bits(x[i]);
      return new Uint8Array(h.buffer);
    }
    case 'q8_0':
      return quantizeQ8_0(x, rows, K);
    case 'q4_0':
      return quantizeQ4_0(x, rows, K);
  }
}

/** The values a kernel sees when it dequantizes `bytes` (float64, exact: d*q in f32 is exact). */
export function decodeWeight(type: WeightType, bytes: Uint8Array, rows: number, K: number): Float64Array {
  const out = new Float64Array(rows * K);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nb = K / QK;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      const i = r * K + k;
      switch (type) {
        case 'f32':
          out[i] = dv.getFloat32(i * 4, true);
          break;
        case 'f16':
          out[i] = f16BitsToF32(dv.getUint16(i * 2, true));
          break;
        case 'q8_0': {
          const o = (r * nb + Math.floor(k / QK)) * 34;
          out[i] = fr(f16BitsToF32(dv.getUint16(o, true)) * dv.getInt8(o + 2 + (k % QK)));
          break;
        }
        case 'q4_0': {
          const o = (r * nb + Math.floor(k / QK)) * 18;
          const j = k % QK;
          const byte = bytes[o + 2 + (j % 16)];
          const q = j < 16 ? byte & 15 : byte >> 4;
          out[i] = fr(f16BitsToF32(dv.getUint16(o, true)) * (q - 8));
          break;
        }
      }
    }
  }
  return out;
}
