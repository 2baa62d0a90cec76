import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32, decodeWeight, encodeWeight, f16BitsToF32, f32ToF16Bits, type WeightType,
} from '../../src/kernels/quant/formats.ts';
import { quantizeRows, quantizeToWeight, sourceBytes, type SourceType } from '../../src/kernels/quant/quantize.ts';
import { releaseWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp, firstDiff } from './op.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const goldenDir = path.resolve(repoRoot, '../shared/golden');

/** Random (rows, K) values in blocks of very different magnitudes, with the edge cases ggml's rounding has. */
function testValues(rng: Rng, rows: number, K: number): Float32Array {
  const x = new Float32Array(rows * K);
  for (let b = 0; b < x.length / 32; b++) {
    const blk = x.subarray(b * 32, b * 32 + 32);
    const kind = b % 8;
    const scale = 10 ** rng.uniform(-4, 3);
    for (let j = 0; j < 32; j++) blk[j] = rng.normal() * scale;
    if (kind === 1) blk.fill(0); // all zeros: d = 0, id = 0
    if (kind === 2) {
      // The largest magnitude is negative (q4_0 takes its sign), with a positive one of equal size after it.
      blk[5] = -4 * scale;
      blk[20] = 4 * scale;
    }
    if (kind === 3) {
      // amax 127 -> d = 1, id = 1 (q8_0); max -8 -> d = 1 (q4_0): x·id lands exactly on .5 ties.
      const ties = [127, -8, 2.5, -2.5, 0.5, -0.5, 1.5, 3.5, -6.5, 7.5, 0, 126.5, -126.5];
      blk.fill(0.25);
      ties.forEach((v, j) => (blk[j] = v));
    }
    if (kind === 4) {
      // amax 63.5 -> d = 0.5, id = 2: more ties, at another scale.
      blk.fill(0);
      [63.5, 1.25, -1.25, 0.75, 10.25, -30.75].forEach((v, j) => (blk[j * 5] = v));
    }
    if (kind === 5) for (let j = 0; j < 32; j++) blk[j] = rng.normal() * 1e-3; // d is an f16 subnormal
    if (kind === 6) for (let j = 0; j < 32; j++) blk[j] = rng.normal() * 1e-7; // d underflows f16 to zero
  }
  return x;
}

/** Source bytes in srcType and the f32 values they hold (what ggml would quantize). */
function encodeSource(x: Float32Array, srcType: SourceType): { bytes: Uint8Array; values: Float32Array } {
  if (srcType === 'f32') return { bytes: new Uint8Array(x.buffer.slice(0)), values: x };
  const h = new Uint16Array(x.length);
  const values = new Float32Array(x.length);
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) {
    // bf16 by truncation is enough for a test source; f16 by the reference conversion.
    h[i] = srcType === 'f16' ? f32ToF16Bits(x[i]) : u[i] >>> 16;
    values[i] = srcType === 'f16' ? f16BitsToF32(h[i]) : bf16BitsToF32(h[i]);
  }
  return { bytes: new Uint8Array(h.buffer), values };
}

describe('formats', () => {
  it('f32ToF16Bits rounds like IEEE binary16 (nearest even)', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [5 * 2 ** -25, 0x0002],
      [2 ** -26, 0x0000], [2 ** -14 - 2 ** -24, 0x03ff], [0.1, 0x2e66], [1 / 3, 0x3555],
    ];
    for (const [v, h] of cases) expect(f32ToF16Bits(v), `f16(${v})`).toBe(h);
    expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits(NaN) & 0x3ff).not.toBe(0);
    for (let h = 0; h < 0x7c00; h += 7) expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
  });

  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    it(`${type}: decodeWeight round-trips (decoded values encode to themselves)`, () => {
      const [rows, K] = [3, 96];
      const dec = decodeWeight(type, encodeWeight(type, testValues(new Rng(7), rows, K), rows, K), rows, K);
      // Bytes need not round-trip (a block whose d underflows f16 keeps nonzero q), the values they mean must.
      const again = decodeWeight(type, encodeWeight(type, dec, rows, K), rows, K);
      const bad = dec.findIndex((v, i) => v !== again[i]);
      expect(bad, `first change at ${bad}: ${dec[bad]} -> ${again[bad]}`).toBe(-1);
    });
  }

  it('decodeWeight reads hand-built q8_0 and q4_0 blocks', () => {
    const q8 = new Uint8Array(34);
    new DataView(q8.buffer).setUint16(0, 0xb800, true); // d = -0.5
    [-128, -1, 0, 1, 127].forEach((q, j) => new DataView(q8.buffer).setInt8(2 + j, q));
    expect(Array.from(decodeWeight('q8_0', q8, 1, 32).subarray(0, 5))).toEqual([64, 0.5, -0, -0.5, -63.5]);
    const q4 = new Uint8Array(18);
    new DataView(q4.buffer).setUint16(0, 0x4000, true); // d = 2
    q4[2] = 0xf0; // element 0: q 0 -> -16; element 16: q 15 -> 14
    q4[3] = 0x08; // element 1: q 8 -> 0;  element 17: q 0 -> -16
    const d4 = decodeWeight('q4_0', q4, 1, 32);
    expect([d4[0], d4[16], d4[1], d4[17]]).toEqual([-16, 14, 0, -16]);
  });

  it('matches the golden quantized weight (ggml reference, via PyTorch export)', () => {
    const file = path.join(goldenDir, 'quantized-q_proj0.safetensors');
    if (!existsSync(file)) throw new Error(`golden file missing: ${file} (the shared golden directory sits next to the repository; CI has it)`);
    const buf = readFileSync(file);
    const headerLen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const tensor = (name: string) => {
      const t = header[name];
      expect(t?.dtype, name).toBe('F32');
      const [a, b] = t.data_offsets;
      const bytes = buf.subarray(8 + headerLen + a, 8 + headerLen + b);
      return { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), shape: t.shape };
    };
    const { data: w, shape } = tensor('f32');
    const [rows, K] = shape;
    const want: [WeightType, string][] = [['q8_0', 'q8_0_dequantized'], ['q4_0', 'q4_0_dequantized'], ['f16', 'f16_rounded']];
    for (const [type, name] of want) {
      const got = decodeWeight(type, encodeWeight(type, w, rows, K), rows, K);
      const ref = tensor(name).data;
      const bad = ref.findIndex((v, i) => v !== Math.fround(got[i])); // ±0 alike: the sign of a zero product is not part of the format
      expect(bad, `${type}: first mismatch at ${bad}: got ${got[bad]}, want ${ref[bad]}`).toBe(-1);
    }
  });
});

describe('quantize (GPU)', () => {
  const dsts: WeightType[] = ['q8_0', 'q4_0', 'f16', 'f32'];
  for (const srcType of ['f32', 'f16', 'bf16'] as const) {
    it(`${srcType} -> ${dsts.join('/')} is bit-identical to formats.ts`, async () => {
      for (const [rows, K] of [[3, 32], [5, 64], [3, 896]]) {
        const { bytes, values } = encodeSource(testValues(new Rng(rows * K), rows, K), srcType);
        for (const dst of dsts) {
          const want = encodeWeight(dst, values, rows, K);
          await checkOp({
            label: `${srcType}->${dst} rows=${rows} K=${K}`,
            inputs: { src: bytes },
            outputs: { out: Math.ceil(want.byteLength / 4) },
            run: (rec, b) => quantizeRows(rec, b.out, b.src, srcType, dst, rows, K),
            want: { out: { bytes: want } },
          });
        }
      }
    });
  }

  it('quantizeToWeight fills several parts from several chunks, with one chunk of extra memory', async () => {
    const ctx = await gpu();
    for (const [dst, K] of [['q8_0', 96], ['q4_0', 32], ['f16', 34]] as const) {
      const rows = 23;
      const { bytes, values } = encodeSource(testValues(new Rng(K), rows, K), 'f32');
      const want = encodeWeight(dst, values, rows, K);
      const bpr = want.byteLength / rows;
      const chunkBytes = 4 * K * sourceBytes('f32'); // 4 source rows per chunk
      const base = ctx.liveBytes;
      ctx.resetPeak();
      const w = await quantizeToWeight(ctx, 'q', bytes, 'f32', dst, rows, K, { maxPartBytes: 9 * bpr, maxChunkBytes: chunkBytes });
      expect(w.parts.length).toBe(3);
      expect(ctx.peakBytes - base).toBeLessThanOrEqual(Math.ceil(want.byteLength / 4) * 4 + 3 * 4 + chunkBytes);
      const got = new Uint8Array(want.byteLength);
      for (const p of w.parts) {
        const n = (p.end - p.start) * bpr;
        got.set(new Uint8Array(await ctx.read(p.buffer, Math.ceil(n / 4) * 4)).subarray(0, n), p.start * bpr);
      }
      expect(firstDiff(got, want), `${dst} K=${K}`).toBe('identical');
      releaseWeight(ctx, w);
    }
  });
});
