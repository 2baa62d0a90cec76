import { afterEach, describe, expect, it } from 'vitest';
import {
  attentionBackward, attentionDsBytes, attentionForward, attentionSharedFloats, attentionTiles, type AttnShape, type TiledKind,
} from '../../src/kernels/attention/attention.ts';
import { kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { attentionBackwardRef, attentionForwardRef } from '../../src/kernels/attention/attention.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

afterEach(resetKernelEnv);

interface Case {
  s: AttnShape;
  lengths: number[] | null;
  backward: boolean;
}

// T not a multiple of any tile or workgroup size; H/Hkv = 1, 2, 7; padding in some batches; D = 16, 64, 128;
// decode (Tq = 1) from a KV cache with spare capacity; a chunk (Tq < Tk) after a cached prefix. The loop forward
// takes 8, 4, 2 or 1 query rows per invocation by Tq (Tq 37, 7, 3, 1 here).
const CASES: Case[] = [
  { s: { B: 2, Tq: 37, Tk: 37, H: 4, Hkv: 4, D: 16 }, lengths: [37, 20], backward: true },
  { s: { B: 1, Tq: 45, Tk: 45, H: 14, Hkv: 2, D: 16 }, lengths: null, backward: true },
  { s: { B: 2, Tq: 33, Tk: 33, H: 4, Hkv: 2, D: 64 }, lengths: [33, 17], backward: true },
  { s: { B: 1, Tq: 19, Tk: 19, H: 2, Hkv: 1, D: 128 }, lengths: [12], backward: true },
  { s: { B: 2, Tq: 1, Tk: 29, H: 14, Hkv: 2, D: 64, kvStride: 40 }, lengths: [29, 13], backward: false },
  { s: { B: 1, Tq: 7, Tk: 20, H: 4, Hkv: 1, D: 16, kvStride: 24 }, lengths: null, backward: true },
  { s: { B: 2, Tq: 3, Tk: 9, H: 4, Hkv: 2, D: 16 }, lengths: [9, 5], backward: true },
];

// Sliding windows (Gemma 3): training-shaped with padding, window smaller than one forward row group; decode
// steps whose slots have different lengths (the window follows each slot's own position); a chunk after a prefix.
const WINDOW_CASES: Case[] = [
  { s: { B: 2, Tq: 37, Tk: 37, H: 4, Hkv: 1, D: 16, window: 5 }, lengths: [37, 20], backward: true },
  { s: { B: 1, Tq: 19, Tk: 19, H: 2, Hkv: 2, D: 64, window: 8 }, lengths: null, backward: true },
  { s: { B: 3, Tq: 1, Tk: 29, H: 4, Hkv: 2, D: 16, kvStride: 40, window: 6 }, lengths: [29, 13, 4], backward: false },
  { s: { B: 1, Tq: 7, Tk: 20, H: 4, Hkv: 1, D: 16, kvStride: 24, window: 9 }, lengths: null, backward: true },
];

const name = (c: Case) => {
  const s = c.s;
  return `B${s.B} Tq${s.Tq} Tk${s.Tk} H${s.H}/${s.Hkv} D${s.D}${s.kvStride ? ` kv${s.kvStride}` : ''}${c.lengths ? ` len[${c.lengths}]` : ''}${s.window ? ` window ${s.window}` : ''}`;
};

/** storeDs: give the backward a dS scratch (poisoned), which the loop variant uses to skip DQ's recompute. */
async function run(c: Case, seed: number, storeDs = false) {
  const ctx = await gpu();
  const { s } = c;
  const kvs = s.kvStride ?? s.Tk;
  const rng = new Rng(seed);
  const nq = s.B * s.Tq * s.H * s.D;
  const nk = s.B * kvs * s.Hkv * s.D;
  const q = rng.randn(nq); // (B*Tq, H*D)
  const k = rng.randn(nk); // (B*kvStride, Hkv*D)
  const v = rng.randn(nk); // (B*kvStride, Hkv*D)
  const dout = rng.randn(nq); // (B*Tq, H*D)
  // Keys nobody may see hold NaN: any read of them past the mask shows up in every comparison.
  for (let b = 0; b < s.B; b++) {
    const end = c.lengths ? c.lengths[b] : s.Tk;
    k.fill(NaN, (b * kvs + end) * s.Hkv * s.D, (b + 1) * kvs * s.Hkv * s.D);
    v.fill(NaN, (b * kvs + end) * s.Hkv * s.D, (b + 1) * kvs * s.Hkv * s.D);
  }
  const [bq, bk, bv, bdo] = [q, k, v, dout].map((a, i) => ctx.upload(`in${i}`, a));
  const blen = c.lengths ? ctx.upload('lengths', Uint32Array.from(c.lengths)) : null;
  const out = ctx.buffer('out', nq * 4);
  const lse = ctx.buffer('lse', s.B * s.H * s.Tq * 4);
  const dq = ctx.buffer('dq', nq * 4);
  const dk = ctx.buffer('dk', nk * 4);
  const dv = ctx.buffer('dv', nk * 4);
  const ds = storeDs ? ctx.buffer('ds', attentionDsBytes(s)) : null;
  [out, lse, dq, dk, dv, ds].forEach((b) => b && ctx.poison(b));
  const rec = ctx.recorder();
  attentionForward(rec, out, lse, bq, bk, bv, blen, s);
  if (c.backward) attentionBackward(rec, dq, dk, dv, bdo, bq, bk, bv, out, lse, blen, s, ds);
  await rec.submit();

  const ref = attentionForwardRef(q, k, v, c.lengths, s);
  expectClose(await ctx.readF32(out), ref.out, 1e-5, 1e-4, 'out');
  expectClose(await ctx.readF32(lse), ref.lse, 1e-5, 1e-4, 'lse');
  if (c.backward) {
    const g = attentionBackwardRef(dout, q, k, v, c.lengths, s);
    expectClose(await ctx.readF32(dq), g.dq, 1e-5, 1e-4, 'dq');
    expectClose(await ctx.readF32(dk), g.dk, 1e-5, 1e-4, 'dk');
    expectClose(await ctx.readF32(dv), g.dv, 1e-5, 1e-4, 'dv');
    if (ds) {
      // The scratch path was taken, not the recompute: every visible (t, key) entry of the poisoned dS was written.
      const got = await ctx.readF32(ds);
      const tk4 = Math.ceil(s.Tk / 4) * 4;
      let written = 0;
      for (let b = 0; b < s.B; b++)
        for (let h = 0; h < s.H; h++)
          for (let t = 0; t < s.Tq; t++) {
            const kend = Math.min(s.Tk - s.Tq + t + 1, c.lengths ? c.lengths[b] : s.Tk);
            for (let j = 0; j < kend; j++) {
              expect(Number.isFinite(got[((b * s.H + h) * s.Tq + t) * tk4 + j]), `dS b${b} h${h} t${t} key ${j}`).toBe(true);
              written++;
            }
          }
      expect(written).toBeGreaterThan(0);
    }
  }
  [bq, bk, bv, bdo, blen, out, lse, dq, dk, dv, ds].forEach((b) => ctx.release(b));
}

describe('attention reference', () => {
  for (const c of [
    { s: { B: 2, Tq: 5, Tk: 5, H: 4, Hkv: 2, D: 4 }, lengths: [5, 3] },
    { s: { B: 1, Tq: 3, Tk: 6, H: 3, Hkv: 1, D: 4, kvStride: 7 }, lengths: [5] },
    { s: { B: 2, Tq: 6, Tk: 6, H: 2, Hkv: 1, D: 4, window: 3 }, lengths: [6, 4] },
  ]) {
    it(`backward matches finite differences, ${name({ ...c, backward: true })}`, () => {
      const { s, lengths } = c;
      const rng = new Rng(3);
      const kvs = s.kvStride ?? s.Tk;
      const q = toF64(rng.randn(s.B * s.Tq * s.H * s.D));
      const k = toF64(rng.randn(s.B * kvs * s.Hkv * s.D));
      const v = toF64(rng.randn(s.B * kvs * s.Hkv * s.D));
      const w = toF64(rng.randn(s.B * s.Tq * s.H * s.D));
      const g = attentionBackwardRef(w, q, k, v, lengths, s);
      expectClose(numericGrad((x) => dot(w, attentionForwardRef(x, k, v, lengths, s).out), q), g.dq, 1e-8, 1e-6, 'dq');
      expectClose(numericGrad((x) => dot(w, attentionForwardRef(q, x, v, lengths, s).out), k), g.dk, 1e-8, 1e-6, 'dk');
      expectClose(numericGrad((x) => dot(w, attentionForwardRef(q, k, x, lengths, s).out), v), g.dv, 1e-8, 1e-6, 'dv');
    });
  }

  it('lse is the log-sum-exp of the visible scaled scores', () => {
    const s = { B: 1, Tq: 2, Tk: 2, H: 1, Hkv: 1, D: 4 };
    const q = [1, 0, 0, 0, 0, 2, 0, 0];
    const k = [1, 0, 0, 0, 0, 1, 0, 0];
    const { lse } = attentionForwardRef(q, k, k, null, s);
    expect(lse[0]).toBeCloseTo(0.5, 12); // only key 0: score 1/sqrt(4)
    expect(lse[1]).toBeCloseTo(Math.log(Math.exp(0) + Math.exp(1)), 12);
    // With a window of 1 each query sees only itself: query 1's score with key 1 is 2/sqrt(4).
    expect(attentionForwardRef(q, k, k, null, { ...s, window: 1 }).lse[1]).toBeCloseTo(1, 12);
  });
});

// SwiftShader compiles these shaders slowly (the loop variant's unrolled D = 128 rows take ~20 s of CPU), so the
// default run stops at D = 64 and small tiles; ATTN_SLOW=1 adds D = 128 and the tiles ctx.caps picks.
const slow = !!process.env.ATTN_SLOW;
const D128 = (c: Case) => c.s.D === 128;

describe('attention tile choice', () => {
  it('fits workgroup memory and invocations at 16 and 32 KiB', () => {
    for (const bytes of [16384, 32768])
      for (const D of [16, 64, 128])
        for (const kind of ['fwd', 'dkdv', 'dq'] as TiledKind[]) {
          const { BQ, BK } = attentionTiles({ maxComputeWorkgroupStorageSize: bytes, maxComputeInvocationsPerWorkgroup: 256 }, kind, D)!;
          expect(attentionSharedFloats(kind, D, BQ, BK) * 4 + 4).toBeLessThanOrEqual(bytes);
          expect(BQ * BK).toBeGreaterThanOrEqual(D <= 64 ? 64 : 16);
        }
  });
});

describe('attention loop', () => {
  CASES.forEach((c, i) => {
    it.skipIf(D128(c) && !slow)(`matches the reference, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'loop';
      await run(c, 100 + i);
    });
  });
  CASES.forEach((c, i) => {
    it.skipIf(D128(c) && !slow || !c.backward)(`matches the reference with a dS scratch, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'loop';
      await run(c, 400 + i, true);
    });
  });
});

describe('attention with a sliding window', () => {
  // A windowed call runs the loop kernels whatever variant is asked for (the tiled ones have no window).
  WINDOW_CASES.forEach((c, i) => {
    for (const variant of ['loop', 'tiled'] as const) {
      it(`matches the reference, ${name(c)}, ${variant} asked`, async () => {
        kernelEnv.attention.variant = variant;
        kernelEnv.attention.tiles = { BQ: 4, BK: 4 };
        await run(c, 500 + i, variant === 'loop' && c.backward);
      });
    }
  });
});

describe('attention tiled', () => {
  // Small tiles compile fast on SwiftShader, and with BQ != BK rows of one tile reach different key tiles.
  CASES.forEach((c, i) => {
    const tiles = D128(c) ? { BQ: 4, BK: 4 } : i % 2 ? { BQ: 4, BK: 8 } : { BQ: 8, BK: 4 };
    it.skipIf(D128(c) && !slow)(`matches the reference, ${name(c)} BQ=${tiles.BQ} BK=${tiles.BK}`, async () => {
      kernelEnv.attention.variant = 'tiled';
      kernelEnv.attention.tiles = tiles;
      await run(c, 200 + i);
    });
  });
  // The tiles ctx.caps picks (on SwiftShader the same as on a 32 KiB GPU): same code as above, slow to compile here.
  CASES.forEach((c, i) => {
    it.skipIf(!slow)(`matches the reference with default tiles, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'tiled';
      await run(c, 300 + i);
    });
  });
});
