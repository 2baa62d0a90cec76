// ggml's k-quant blocks dequantized on the host exactly as ggml-quants.c does (dequantize_row_q4_K / q6_K),
// every product rounded to f32 in the same order, so results match llama.cpp's CPU path bit for bit.
import { bf16BitsToF32, f16BitsToF32 } from '../util/f16.ts';

export const QK_K = 256;
export const Q4_K_BYTES = 144; // f16 d, f16 dmin, u8 scales[12], u8 qs[128]
export const Q6_K_BYTES = 210; // u8 ql[128], u8 qh[64], i8 scales[16], f16 d

const fr = Math.fround;

function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/** Q4_K blocks → f32; `k` values (a multiple of 256). */
export function dequantizeQ4_K(bytes: Uint8Array, k: number, out = new Float32Array(k)): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let y = 0;
  for (let i = 0; i < k / QK_K; i++) {
    const b = i * Q4_K_BYTES;
    const d = f16BitsToF32(dv.getUint16(b, true));
    const min = f16BitsToF32(dv.getUint16(b + 2, true));
    const scales = b + 4;
    let q = b + 16;
    let is = 0;
    for (let j = 0; j < QK_K; j += 64) {
      let [sc, m] = scaleMinK4(is, bytes, scales);
      const d1 = fr(d * sc);
      const m1 = fr(min * m);
      [sc, m] = scaleMinK4(is + 1, bytes, scales);
      const d2 = fr(d * sc);
      const m2 = fr(min * m);
      for (let l = 0; l < 32; l++) out[y++] = fr(d1 * (bytes[q + l] & 0xf)) - m1;
      for (let l = 0; l < 32; l++) out[y++] = fr(d2 * (bytes[q + l] >> 4)) - m2;
      q += 32;
      is += 2;
    }
  }
  return out;
}

/** Q6_K blocks → f32; `k` values (a multiple of 256). */
export function dequantizeQ6_K(bytes: Uint8Array, k: number, out = new Float32Array(k)): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < k / QK_K; i++) {
    const b = i * Q6_K_BYTES;
    const d = f16BitsToF32(dv.getUint16(b + 208, true));
    let ql = b;
    let qh = b + 128;
    let sc = b + 192;
    let y = i * QK_K;
    for (let n = 0; n < QK_K; n += 128) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = bytes[qh + l];
        const q1 = ((bytes[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        const s = (t: number) => dv.getInt8(sc + is + t);
        out[y + l] = fr(fr(d * s(0)) * q1);
        out[y + l + 32] = fr(fr(d * s(2)) * q2);
        out[y + l + 64] = fr(fr(d * s(4)) * q3);
        out[y + l + 96] = fr(fr(d * s(6)) * q4);
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
  return out;
}

export function bf16ToF32(bytes: Uint8Array, k: number, out = new Float32Array(k)): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < k; i++) out[i] = bf16BitsToF32(dv.getUint16(2 * i, true));
  return out;
}
