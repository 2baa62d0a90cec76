import { describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../src/gpu/recorder.ts';
import {
  attentionBackward, attentionDsBytes, attentionForward, attentionSharedFloats, attentionTiles, type AttnShape, type TiledKind,
} from '../../src/kernels/attention/attention.ts';
import { kernelEnv } from '../../src/kernels/env.ts';
import { attentionBackwardRef, attentionForwardRef, visibleKeys } from '../../src/kernels/attention/attention.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp, checkRefGrad } from './op.ts';

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

// Branch layouts (the shared-prompt step: prompt, then chosen, then rejected; lengths holds lengths, promptLen and
// branchStart): an empty shared prompt (batch 1 of the first), padding, heads grouped 7:1, a window (Gemma 3) whose
// positions restart at the second branch, D = 64.
const BRANCH_CASES: Case[] = [
  { s: { B: 2, Tq: 37, Tk: 37, H: 4, Hkv: 2, D: 16, branch: true }, lengths: [37, 29, 10, 0, 20, 9], backward: true },
  { s: { B: 1, Tq: 45, Tk: 45, H: 14, Hkv: 2, D: 16, branch: true }, lengths: [41, 13, 30], backward: true },
  { s: { B: 2, Tq: 37, Tk: 37, H: 4, Hkv: 1, D: 16, window: 5, branch: true }, lengths: [37, 30, 9, 3, 22, 11], backward: true },
  { s: { B: 2, Tq: 33, Tk: 33, H: 4, Hkv: 2, D: 64, branch: true }, lengths: [33, 21, 5, 12, 17, 15], backward: true },
];

const name = (c: Case) => {
  const s = c.s;
  return `B${s.B} Tq${s.Tq} Tk${s.Tk} H${s.H}/${s.Hkv} D${s.D}${s.kvStride ? ` kv${s.kvStride}` : ''}${c.lengths ? ` len[${c.lengths}]` : ''}${s.window ? ` window ${s.window}` : ''}${s.branch ? ' branch' : ''}`;
};

/** storeDs: give the backward a dS scratch (poisoned), which the loop variant uses to skip DQ's recompute. */
async function run(c: Case, seed: number, storeDs = false) {
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
  const ref = attentionForwardRef(q, k, v, c.lengths, s);
  const g = c.backward ? attentionBackwardRef(dout, q, k, v, c.lengths, s) : null;
  const tol = (r: ArrayLike<number>) => ({ ref: r, atol: 1e-5, rtol: 1e-4 });
  const got = await checkOp({
    // Without lengths the kernels never read that binding, but WebGPU wants one: a dummy word stands in.
    inputs: { q, k, v, dout, lengths: c.lengths ? Uint32Array.from(c.lengths) : new Uint32Array(1) },
    outputs: { out: nq, lse: s.B * s.H * s.Tq, dq: nq, dk: nk, dv: nk, ds: storeDs ? attentionDsBytes(s) / 4 : 1 },
    run: (rec, b) => {
      const len = c.lengths ? b.lengths : null;
      attentionForward(rec, b.out, b.lse, b.q, b.k, b.v, len, s);
      if (c.backward) attentionBackward(rec, b.dq, b.dk, b.dv, b.dout, b.q, b.k, b.v, b.out, b.lse, len, s, storeDs ? b.ds : null);
    },
    want: { out: tol(ref.out), lse: tol(ref.lse), ...(g ? { dq: tol(g.dq), dk: tol(g.dk), dv: tol(g.dv) } : {}) },
  });
  if (storeDs && c.backward) {
    // The scratch path was taken, not the recompute: every visible (t, key) entry of the poisoned dS was written.
    const tk4 = Math.ceil(s.Tk / 4) * 4;
    let written = 0;
    for (let b = 0; b < s.B; b++)
      for (let h = 0; h < s.H; h++)
        for (let t = 0; t < s.Tq; t++) {
          // Only visible keys: in a branch layout, the first branch's keys are skipped for the second's queries.
          const [a0, a1, b0, kend] = visibleKeys(s, c.lengths, b, t);
          for (let j = 0; j < kend; j++) {
            if (!((j >= a0 && j < a1) || j >= b0)) continue;
            expect(Number.isFinite(got.ds[((b * s.H + h) * s.Tq + t) * tk4 + j]), `dS b${b} h${h} t${t} key ${j}`).toBe(true);
            written++;
          }
        }
    expect(written).toBeGreaterThan(0);
  }
}

describe('attention reference', () => {
  for (const c of [
    { s: { B: 2, Tq: 5, Tk: 5, H: 4, Hkv: 2, D: 4 }, lengths: [5, 3] },
    { s: { B: 1, Tq: 3, Tk: 6, H: 3, Hkv: 1, D: 4, kvStride: 7 }, lengths: [5] },
    { s: { B: 2, Tq: 6, Tk: 6, H: 2, Hkv: 1, D: 4, window: 3 }, lengths: [6, 4] },
    { s: { B: 2, Tq: 9, Tk: 9, H: 2, Hkv: 1, D: 4, branch: true }, lengths: [9, 7, 2, 0, 5, 3] },
    { s: { B: 1, Tq: 10, Tk: 10, H: 2, Hkv: 2, D: 4, window: 3, branch: true }, lengths: [10, 4, 7] },
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
      checkRefGrad('dq', (x) => dot(w, attentionForwardRef(x, k, v, lengths, s).out), q, g.dq);
      checkRefGrad('dk', (x) => dot(w, attentionForwardRef(q, x, v, lengths, s).out), k, g.dk);
      checkRefGrad('dv', (x) => dot(w, attentionForwardRef(q, k, x, lengths, s).out), v, g.dv);
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

  it('a second-branch query sees the shared prompt and its own branch only', () => {
    // B = 1, T = 7: prompt [0, 2), first branch [2, 4), second [4, 7) (padding at 6).
    const s = { B: 1, Tq: 7, Tk: 7, H: 1, Hkv: 1, D: 4, branch: true };
    const lengths = [6, 2, 4];
    expect(visibleKeys(s, lengths, 0, 3)).toEqual([0, 4, 4, 4]); // first branch: plain causal
    expect(visibleKeys(s, lengths, 0, 5)).toEqual([0, 2, 4, 6]);
    expect(visibleKeys(s, lengths, 0, 6)).toEqual([0, 2, 4, 6]); // padding: clamped to the last key
    // Window 2: row 5 sits at position 5 - (4 - 2) = 3, so it sees positions 2 and 3: keys 4 and 5 only.
    expect(visibleKeys({ ...s, window: 2 }, lengths, 0, 5)).toEqual([2, 2, 4, 6]);
    expect(visibleKeys({ ...s, window: 3 }, lengths, 0, 5)).toEqual([1, 2, 4, 6]);
    // The second branch's out equals plain causal attention over [prompt, second branch] alone.
    const rng = new Rng(9);
    const [q, k, v] = [rng.randn(7 * 4), rng.randn(7 * 4), rng.randn(7 * 4)];
    const rows = [0, 1, 4, 5];
    const pick = (x: Float32Array) => rows.flatMap((r) => [...x.subarray(r * 4, r * 4 + 4)]);
    const plain = attentionForwardRef(pick(q), pick(k), pick(v), null, { B: 1, Tq: 4, Tk: 4, H: 1, Hkv: 1, D: 4 }).out;
    const got = attentionForwardRef(q, k, v, lengths, s).out;
    for (const [i, r] of rows.entries()) for (let d = 0; d < 4; d++) expect(got[r * 4 + d]).toBeCloseTo(plain[i * 4 + d], 12);
  });
});

// SwiftShader compiles the tiled kernels at the tiles ctx.caps picks slowly, so the default run takes small tiles;
// ATTN_SLOW=1 adds the default tiles. D = 128 runs at one small shape (its cost is the compile of the loop
// variant's unrolled rows, not the shape).
const slow = !!process.env.ATTN_SLOW;
const D128 = (c: Case) => c.s.D === 128;
// A loop case at D >= 64 compiles unrolled kernels for ~10-25 s of CPU: on a machine shared with other test files
// that took 140-370 s (measured at load average ~20), past the default timeout.
const timeout = (c: Case) => (c.s.D >= 64 ? 600_000 : undefined);

describe('attention tile choice', () => {
  it('fits workgroup memory and invocations at 16 and 32 KiB', () => {
    for (const bytes of [16384, 32768])
      for (const D of [16, 64, 128])
        for (const kind of ['fwd', 'dkdv', 'dq'] as TiledKind[]) {
          const { BQ, BK } = attentionTiles({ maxComputeWorkgroupStorageSize: bytes, maxComputeInvocationsPerWorkgroup: 256 }, kind, D)!;
          expect(attentionSharedFloats(kind, D, BQ, BK) * 4 + 16).toBeLessThanOrEqual(bytes);
          expect(BQ * BK).toBeGreaterThanOrEqual(D <= 64 ? 64 : 16);
        }
  });
});

// The tiled forward sums a row's scores through workgroup memory, or by subgroup shuffles where the device's
// subgroups have at least 4 lanes (SwiftShader: 4); each forced. (The backward checks see the forward's lse too.)
const caps = (await gpu()).caps;
const subgroupsFit = caps.subgroups && caps.subgroupMinSize >= 4;
const SCORE_SUMS: Record<string, boolean> = { shared: false, ...(subgroupsFit ? { subgroups: true } : {}) };
// The loop forward holds a row group on one lane, or on 4 neighbouring lanes that sum their scores by subgroup
// shuffles where subgroups fit; each forced.
const LANES: Record<string, boolean> = { '1 lane': false, ...(subgroupsFit ? { '4 lanes': true } : {}) };

/** Runs a case and expects each attention forward it dispatched to hold a row group on `lanes` lanes (the pipeline's label is its key). */
async function runOnLanes(c: Case, seed: number, lanes: number) {
  const spy = vi.spyOn(Recorder.prototype, 'dispatch');
  try {
    await run(c, seed);
    const fwd = spy.mock.calls.map(([d]) => d).filter((d) => d.kernel === 'attention_fwd').map((d) => d.pipeline.label);
    expect(fwd).not.toHaveLength(0);
    expect(fwd.filter((id) => !id.includes(`,LPR=${lanes},`))).toEqual([]);
  } finally {
    spy.mockRestore();
  }
}

describe('attention loop', () => {
  CASES.forEach((c, i) => {
    for (const [lanes, subgroups] of Object.entries(LANES)) {
      it(`matches the reference, ${name(c)}, forward on ${lanes} per row group`, async () => {
        kernelEnv.attention.variant = 'loop';
        kernelEnv.attention.subgroups = subgroups;
        await runOnLanes(c, 100 + i, subgroups ? 4 : 1);
      }, timeout(c));
    }
  });
  // A head width that is not a multiple of 16 does not split into 4 lanes' vec4 slices: one lane, even when asked.
  it.skipIf(!subgroupsFit)('takes one lane per row group at D 20 with subgroups forced', async () => {
    kernelEnv.attention.variant = 'loop';
    kernelEnv.attention.subgroups = true;
    await runOnLanes({ s: { B: 1, Tq: 11, Tk: 11, H: 4, Hkv: 2, D: 20 }, lengths: null, backward: false }, 150, 1);
  });
  CASES.forEach((c, i) => {
    it.skipIf(!c.backward)(`matches the reference with a dS scratch, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'loop';
      await run(c, 400 + i, true);
    }, timeout(c));
  });
  // cli logps/grads compile DKDV with 1 key per invocation (kernelEnv.attention.keys): scalars where 2 and 4 keys
  // have vectors. With and without a dS scratch, alternately.
  CASES.forEach((c, i) => {
    it.skipIf(!c.backward)(`matches the reference with 1 key per DKDV invocation forced${i % 2 ? ' and a dS scratch' : ''}, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'loop';
      kernelEnv.attention.keys = 1;
      try {
        await run(c, 900 + i, i % 2 === 1);
        expect((await gpu()).pipelineIds.filter((id) => id.startsWith(`attention_loop(D=${c.s.D},KERNEL=DKDV,KPI=1,`))).not.toHaveLength(0);
      } finally {
        kernelEnv.attention.keys = null;
      }
    }, timeout(c));
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
      }, timeout(c));
    }
    // The loop forward on one lane per row group (the default where subgroups fit is 4).
    it.skipIf(!subgroupsFit)(`matches the reference, ${name(c)}, loop forward on 1 lane per row group`, async () => {
      kernelEnv.attention.variant = 'loop';
      kernelEnv.attention.subgroups = false;
      await runOnLanes(c, 550 + i, 1);
    }, timeout(c));
  });
});

describe('attention tiled', () => {
  // Small tiles compile fast on SwiftShader, and with BQ != BK rows of one tile reach different key tiles.
  CASES.forEach((c, i) => {
    const tiles = D128(c) ? { BQ: 4, BK: 4 } : i % 2 ? { BQ: 4, BK: 8 } : { BQ: 8, BK: 4 };
    for (const [sums, subgroups] of Object.entries(SCORE_SUMS)) {
      it(`matches the reference, ${name(c)} BQ=${tiles.BQ} BK=${tiles.BK} (${sums})`, async () => {
        kernelEnv.attention.variant = 'tiled';
        kernelEnv.attention.tiles = tiles;
        kernelEnv.attention.subgroups = subgroups;
        await run(c, 200 + i);
      }, timeout(c));
    }
  });
  // The tiles ctx.caps picks (on SwiftShader the same as on a 32 KiB GPU): same code as above, slow to compile here.
  CASES.forEach((c, i) => {
    it.skipIf(!slow)(`matches the reference with default tiles, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'tiled';
      await run(c, 300 + i);
    });
  });
});

describe('attention in a branch layout', () => {
  BRANCH_CASES.forEach((c, i) => {
    for (const [lanes, subgroups] of Object.entries(LANES)) {
      it(`loop matches the reference, ${name(c)}, forward on ${lanes} per row group`, async () => {
        kernelEnv.attention.variant = 'loop';
        kernelEnv.attention.subgroups = subgroups;
        await runOnLanes(c, 600 + i, subgroups ? 4 : 1);
      }, timeout(c));
    }
    it(`loop with a dS scratch matches the reference, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'loop';
      await run(c, 700 + i, true);
    }, timeout(c));
    // cli logps/grads compile the forward with 2 query rows per invocation (kernelEnv.attention.rows), not 8, and
    // DKDV with 1 key (kernelEnv.attention.keys), not 2; grads gets a dS scratch.
    it.skipIf(c.s.D !== 64)(`loop as cli grads compiles it (2 query rows, 1 key per DKDV invocation) matches the reference, ${name(c)}`, async () => {
      kernelEnv.attention.variant = 'loop';
      kernelEnv.attention.rows = 2;
      kernelEnv.attention.keys = 1;
      try {
        await run(c, 800 + i, true);
        const ids = (await gpu()).pipelineIds;
        expect(ids.filter((id) => id.startsWith('attention_loop(D=64,KERNEL=FORWARD,') && id.includes(',R=2,'))).toHaveLength(1);
        expect(ids.filter((id) => id.startsWith('attention_loop(D=64,KERNEL=DKDV,KPI=1,') && id.includes('STORE_DS=true'))).toHaveLength(1);
      } finally {
        kernelEnv.attention.rows = null;
        kernelEnv.attention.keys = null;
      }
    }, timeout(c));
    // A windowed call takes the loop kernels whatever is asked for.
    for (const [sums, subgroups] of Object.entries(SCORE_SUMS)) {
      it(`tiled matches the reference, ${name(c)} (${sums})`, async () => {
        kernelEnv.attention.variant = 'tiled';
        kernelEnv.attention.tiles = i % 2 ? { BQ: 4, BK: 8 } : { BQ: 8, BK: 4 };
        kernelEnv.attention.subgroups = subgroups;
        await run(c, 800 + i);
      }, timeout(c));
    }
  });
});
