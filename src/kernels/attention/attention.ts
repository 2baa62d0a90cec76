// Causal grouped-query self-attention (flash-attention style): forward saves only the log-sum-exp per query row;
// backward recomputes probabilities tile by tile. Two variants, chosen from ctx.caps:
//   'loop'  (attention.wgsl): a few rows per invocation in registers, no barriers: CPU rasterizers.
//   'tiled' (attention_tiled.wgsl): workgroup-shared Q/K/V tiles: real GPUs.
// Backward: PREP (D_i = dout_i . out_i, parked in dq), DKDV (per key row, summed over the group's query
// heads in a fixed order, so deterministic without float atomics), DQ (per query row). Given a dS scratch
// (the training workspace holds one when it is small), the loop variant's DKDV also stores dS and DQ_DS makes dq
// the single product dS·K, instead of DQ recomputing QKᵀ and dO·Vᵀ.
import type { Capabilities } from '../../gpu/caps.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { GpuError } from '../../gpu/errors.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { grid1d, params } from '../dispatch.ts';
import { cpuTuned, kernelEnv } from '../env.ts';
import { attentionLoopShader, attentionTiledShader, type LoopKernel } from './attention.gen.ts';

export interface AttnShape {
  B: number;
  Tq: number;
  Tk: number;
  H: number;
  Hkv: number;
  D: number;
  /** Rows per batch in the k/v buffers, default Tk (a KV cache has capacity >= Tk). */
  kvStride?: number;
  /**
   * Sliding window (Gemma 3's sliding layers): a query at position pos sees keys j > pos − window only. The
   * query's position is clamped to its sequence's last key (decoding: Tq = 1 at each slot's own length).
   * Only the loop variant implements it: a windowed call takes the loop kernels on every device.
   */
  window?: number;
  /**
   * Branch layout (training's shared-prompt step, src/model/batch.ts): each sequence is a shared prompt, then a
   * first branch, then a second, and `lengths` holds (3B) u32: lengths, then promptLen, then branchStart. A query
   * at or past branchStart sees keys [0, promptLen) and [branchStart, itself] only, at position
   * t − (branchStart − promptLen) for the window; the others see as usual. Needs Tq == Tk and lengths.
   */
  branch?: boolean;
}

export type AttnVariant = 'loop' | 'tiled';

// Forcing a variant or tiles: kernelEnv.attention (src/kernels/env.ts).

// Small workgroups: decode has only B*H rows, and SwiftShader spreads workgroups, not invocations, over cores.
// A dispatch of few invocations (short sequences: DKDV at T = 16 has 16) gets workgroups of one SIMD group (4
// lanes), else it would run on one core: measured ~1.7x on DKDV at T = 16, H 14/2.
const loopWg = (invocations: number) => (invocations <= 256 ? 4 : 16);
// Query rows per row group in the loop forward: each key load serves this many rows. At D = 64, 4 measured ~1.5x
// over 2, and 8 ~1.3x over 4 at T = 64 (~1.45x at T = 256), for a compile of ~10 s instead of ~4 (one lane per
// row group; on 4 lanes, SwiftShader: 2.4 s for 8 rows, 1.1 s for 4, 0.6 s for 2). Wider heads take 2:
// SwiftShader's compile time grows steeply with the live registers (D 128: 12.2 s on one lane, 1.6 s on 4).
// Fewer rows than Tq would only repeat the last one (decoding has Tq = 1), so R is the largest power of two <= Tq.
const fwdRows = (D: number, Tq: number) => Math.min(kernelEnv.attention.rows ?? (D > 64 ? 2 : 8), 2 ** Math.floor(Math.log2(Math.max(1, Tq))));
// DQ_DS's rows per invocation: 8 measured only ~1.05x over 4, not worth the compile.
const dqRows = (D: number) => (D > 64 ? 2 : 4);
// DKDV's keys per invocation (see attention.wgsl): 4 only below D = 64. At D = 64, 2 keys measured (SwiftShader, two
// alternations, T 64 and 256, H 14/2) the backward's compile at 2.0-7.7 s instead of 17-21 s, and its run time no
// worse (T 64: 15.5-16.1 ms vs 20.7-23.9; T 256: 223 ms vs 202-217): 4 keys x k, v, dk, dv slices of 64 spill.
// 1 key compiles in half the time again, for one-step commands (kernelEnv.attention.keys, set by cli logps/grads).
const dkdvKeys = (D: number) => kernelEnv.attention.keys ?? (D >= 64 ? 2 : 4);
// Threads per row in the tiled kernels; each holds D/TPR accumulator values.
const TPR = 4;

export function attentionVariant(ctx: GpuContext, D = 64): AttnVariant {
  if (kernelEnv.attention.variant) return kernelEnv.attention.variant;
  if (cpuTuned(ctx)) return 'loop';
  // Heads too wide for the device's workgroup memory (D = 256 at 16 KiB) still run, barrier-free.
  const fits = (['fwd', 'dkdv', 'dq'] as const).every((kind) => attentionTiles(ctx.caps, kind, D));
  return fits ? 'tiled' : 'loop';
}

export type TiledKind = 'fwd' | 'dkdv' | 'dq';

/** Workgroup floats each tiled kernel needs (see the var<workgroup> declarations). */
function sharedFloats(kind: TiledKind, D: number, BQ: number, BK: number): number {
  if (kind === 'fwd') return BQ * D + 2 * BK * D + BQ * BK;
  if (kind === 'dq') return 2 * BQ * D + 2 * BK * D + BQ * BK;
  return 2 * BK * D + 2 * BQ * D + 2 * BQ + 2 * BK * BQ;
}

// Largest tiles first: bigger tiles mean fewer K/V reloads per query row.
const TILE_CHOICES: [number, number][] = [[32, 32], [32, 16], [16, 16], [16, 8], [8, 8], [8, 4], [4, 4]];

/** Tile sizes of a tiled kernel: the largest that fit the device's workgroup memory and invocation limits. */
export { sharedFloats as attentionSharedFloats };

export function attentionTiles(caps: Pick<Capabilities, 'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup'>, kind: TiledKind, D: number): { BQ: number; BK: number } | null {
  const bytes = caps.maxComputeWorkgroupStorageSize;
  const maxInv = caps.maxComputeInvocationsPerWorkgroup;
  for (const [a, b] of TILE_CHOICES) {
    // DKDV's rows are keys: its block is (BK rows, BQ queries streamed), the others' (BQ rows, BK keys).
    const [BQ, BK] = kind === 'dkdv' ? [b, a] : [a, b];
    const rows = kind === 'dkdv' ? BK : BQ;
    // + 16: the u32 that broadcasts the key bound and the vec2<u32> of the skipped keys (8-byte aligned).
    if (sharedFloats(kind, D, BQ, BK) * 4 + 16 <= bytes && rows * TPR <= maxInv) return { BQ, BK };
  }
  return null;
}

function tiles(ctx: GpuContext, kind: TiledKind, D: number): { BQ: number; BK: number } {
  const t = kernelEnv.attention.tiles ?? attentionTiles(ctx.caps, kind, D);
  if (!t) throw new GpuError('unsupported', `attention D=${D} needs more workgroup memory than the device has`, `attention_${kind}`);
  return t;
}

function check(s: AttnShape, backward: boolean): number {
  // Backward needs nothing beyond forward's rules: Tq < Tk (a chunk after a cached prefix) works as well.
  const kvStride = s.kvStride ?? s.Tk;
  const why =
    s.D % 4 !== 0 || s.D > 256 ? `D=${s.D} must be a multiple of 4, at most 256`
    : s.H % s.Hkv !== 0 ? `Hkv=${s.Hkv} must divide H=${s.H}`
    : s.Tq > s.Tk ? `Tq=${s.Tq} exceeds Tk=${s.Tk}`
    : kvStride < s.Tk ? `kvStride=${kvStride} is below Tk=${s.Tk}`
    : s.window !== undefined && !(Number.isInteger(s.window) && s.window >= 0) ? `window=${s.window} must be a non-negative integer`
    : s.branch && s.Tq !== s.Tk ? `a branch layout needs Tq == Tk (Tq=${s.Tq}, Tk=${s.Tk})`
    : '';
  if (why) throw new GpuError('unsupported', why, backward ? 'attention_bwd' : 'attention_fwd', shapeStr(s));
  return kvStride;
}

function shapeStr(s: AttnShape): string {
  return `B=${s.B} Tq=${s.Tq} Tk=${s.Tk} H=${s.H} Hkv=${s.Hkv} D=${s.D} kvStride=${s.kvStride ?? s.Tk}${s.window ? ` window=${s.window}` : ''}${s.branch ? ' branch' : ''}`;
}

// useLen: 0 no lengths, 1 lengths (B), 2 a branch layout's (3B). A runtime flag, not a define: the branch layout
// runs the same pipelines as the plain one (no extra compile, and precompile plans stay as they are).
function uniforms(s: AttnShape, kvStride: number, lengths: GPUBuffer | null): ArrayBuffer {
  if (s.branch && !lengths) throw new GpuError('unsupported', 'a branch layout needs its lengths buffer (3B u32)', 'attention', shapeStr(s));
  return params([s.B, s.Tq, s.Tk, s.H, s.Hkv, kvStride, s.branch ? 2 : lengths ? 1 : 0, { f32: 1 / Math.sqrt(s.D) }, s.window ?? 0]);
}

/** The variant a call runs: attentionVariant, except that a sliding window always takes the loop kernels. */
function variantOf(ctx: GpuContext, s: AttnShape): AttnVariant {
  return s.window ? 'loop' : attentionVariant(ctx, s.D);
}

// R: rows per invocation of FORWARD and DQ_DS, LPR: FORWARD's lanes per row group, KPI: keys of DKDV (1 for the
// others, which do not read them).
function loopPipe(ctx: GpuContext, kernel: LoopKernel, D: number, WG: number, R: number, LPR: 1 | 4, STORE_DS: boolean) {
  return ctx.compile(attentionLoopShader, { KERNEL: kernel, D, WG, R, LPR, KPI: kernel === 'DKDV' ? dkdvKeys(D) : 1, STORE_DS });
}

/** A loop kernel's pipeline and grid for `n` row groups (invocations, or LPR lanes each). */
function loopDispatch(ctx: GpuContext, kernel: LoopKernel, D: number, n: number, R = 1, storeDs = false, LPR: 1 | 4 = 1) {
  const wg = loopWg(n * LPR); // a multiple of 4: a row group's lanes are neighbours in one subgroup
  return { pipeline: loopPipe(ctx, kernel, D, wg, R, LPR, storeDs), workgroups: grid1d(ctx, n * LPR, wg) };
}

/** The loop forward's lanes per row group: 4 where subgroups sum the lanes' scores (attentionSubgroups) and D / 4 splits four ways. */
const fwdLanes = (ctx: GpuContext, D: number): 1 | 4 => (D % 16 === 0 && attentionSubgroups(ctx) ? 4 : 1);

/** Largest dS scratch worth holding: past it the backward recomputes instead (a long-context batch). */
export const ATTN_DS_MAX_BYTES = 64 << 20;

/** Whether attentionBackward at this shape would use a dS scratch (loop variant, and the scratch is small). */
export function attentionUsesDs(ctx: GpuContext, s: AttnShape): boolean {
  const bytes = attentionDsBytes(s);
  return variantOf(ctx, s) === 'loop' && bytes <= Math.min(ATTN_DS_MAX_BYTES, ctx.caps.maxStorageBufferBindingSize);
}

/** Bytes of the dS scratch attentionBackward can use: (B, H, Tq, Tk4) f32, rows padded to a multiple of 4. */
export function attentionDsBytes(s: AttnShape): number {
  return s.B * s.H * s.Tq * Math.ceil(s.Tk / 4) * 4 * 4;
}

function tiledPipe(ctx: GpuContext, KERNEL: 'FORWARD' | 'DKDV' | 'DQ', D: number, BQ: number, BK: number) {
  return ctx.compile(attentionTiledShader, { KERNEL, D, BQ, BK, TPR, SUBGROUPS: attentionSubgroups(ctx) });
}

/**
 * Whether the tiled kernels and the loop forward sum a row's scores by subgroup shuffles
 * (kernelEnv.attention.subgroups): where every subgroup has at least TPR (= the loop forward's 4 lanes per row
 * group) lanes, so a row's threads are neighbouring lanes of one subgroup. The loop forward then splits each row
 * group's registers and loads over 4 lanes (attention.wgsl). In the tiled kernels, on a GPU this
 * drops the row's own tiles (forward, DQ: query and dout; DKDV: key and value) and the score tiles from workgroup
 * memory with a barrier per tile, and each thread keeps its row's slices in registers instead of rereading them
 * for every key (forward's reads per key tile per thread at D = 64, BK = 32: ~1.0k instead of ~1.6k). Untimed on
 * a real GPU so far: SwiftShader runs the tiled kernels only when tests force them.
 */
export function attentionSubgroups(ctx: GpuContext): boolean {
  const { subgroups: has, subgroupMinSize: min, subgroupMaxSize: max } = ctx.caps;
  const fits = has && min >= TPR;
  const want = kernelEnv.attention.subgroups;
  if (want === true && !fits) throw new GpuError('unsupported', `subgroup attention needs subgroups of at least ${TPR} lanes (device: ${has ? `${min}-${max}` : 'none'})`, 'attention_fwd');
  return fits && want !== false;
}

/**
 * out = softmax(q k^T / sqrt(D) + causal/padding mask) v per head; lse = the row log-sum-exp, saved for backward.
 * Query t of batch b sits at position Tk - Tq + t; key j is visible iff j <= position and j < lengths[b].
 */
export function attentionForward(
  rec: Recorder,
  out: GPUBuffer, // (B*Tq, H*D) f32
  lse: GPUBuffer, // (B, H, Tq) f32
  q: GPUBuffer, // (B*Tq, H*D) f32
  k: GPUBuffer, // (B*kvStride, Hkv*D) f32
  v: GPUBuffer, // (B*kvStride, Hkv*D) f32
  lengths: GPUBuffer | null, // (B) u32 valid keys per sequence, (3B) with s.branch; null = all Tk
  s: AttnShape,
): void {
  const ctx = rec.ctx;
  const kvStride = check(s, false);
  const u = uniforms(s, kvStride, lengths);
  // Without lengths the shader never reads that binding, but WebGPU wants one: q stands in.
  const len = lengths ?? q;
  const shapes = shapeStr(s);
  if (variantOf(ctx, s) === 'loop') {
    rec.dispatch({
      kernel: 'attention_fwd', shapes, params: u, buffers: [out, lse, q, k, v, len],
      ...loopDispatch(ctx, 'FORWARD', s.D, s.B * s.H * Math.ceil(s.Tq / fwdRows(s.D, s.Tq)), fwdRows(s.D, s.Tq), false, fwdLanes(ctx, s.D)),
    });
    return;
  }
  const { BQ, BK } = tiles(ctx, 'fwd', s.D);
  rec.dispatch({
    kernel: 'attention_fwd', shapes: `${shapes} BQ=${BQ} BK=${BK}`, pipeline: tiledPipe(ctx, 'FORWARD', s.D, BQ, BK),
    params: u, buffers: [out, lse, q, k, v, len], workgroups: [Math.ceil(s.Tq / BQ), s.H, s.B],
  });
}

/**
 * Gradients of attentionForward (training has Tq == Tk == T; Tq < Tk also works). dq, dk, dv are overwritten; dk/dv sum the H/Hkv query heads
 * of each group, and rows of keys no query sees (past lengths[b], or past Tk up to kvStride) are zero.
 */
export function attentionBackward(
  rec: Recorder,
  dq: GPUBuffer, // (B*T, H*D) f32
  dk: GPUBuffer, // (B*kvStride, Hkv*D) f32
  dv: GPUBuffer, // (B*kvStride, Hkv*D) f32
  dout: GPUBuffer, // (B*T, H*D) f32
  q: GPUBuffer, // (B*T, H*D) f32
  k: GPUBuffer, // (B*kvStride, Hkv*D) f32
  v: GPUBuffer, // (B*kvStride, Hkv*D) f32
  out: GPUBuffer, // (B*T, H*D) f32 forward output
  lse: GPUBuffer, // (B, H, T) f32 saved by forward
  lengths: GPUBuffer | null, // (B) u32, (3B) with s.branch
  s: AttnShape,
  dsScratch: GPUBuffer | null = null, // (B, H, Tq, Tk4) f32, attentionDsBytes(s): lets the loop variant skip DQ's recompute
): void {
  const ctx = rec.ctx;
  const kvStride = check(s, true);
  const len = lengths ?? q;
  const shapes = shapeStr(s);
  const u = uniforms(s, kvStride, lengths);
  rec.dispatch({
    kernel: 'attention_bwd_prep', shapes, params: u, buffers: [dq, dout, out],
    ...loopDispatch(ctx, 'PREP', s.D, s.B * s.Tq * s.H),
  });
  if (variantOf(ctx, s) === 'loop') {
    // With room for dS, DKDV (which computes it anyway) stores it and dq is one product: 5 products in all
    // instead of 7 (measured ~1.3x on the whole backward at T = 256).
    const ds = dsScratch && dsScratch.size >= attentionDsBytes(s) ? dsScratch : null;
    rec.dispatch({
      kernel: 'attention_bwd_dkdv', shapes, params: u, buffers: ds ? [dk, dv, dq, dout, q, k, v, lse, len, ds] : [dk, dv, dq, dout, q, k, v, lse, len],
      ...loopDispatch(ctx, 'DKDV', s.D, s.B * s.Hkv * Math.ceil(kvStride / dkdvKeys(s.D)), 1, !!ds),
    });
    if (ds) {
      rec.dispatch({
        kernel: 'attention_bwd_dq_ds', shapes, params: u, buffers: [dq, k, ds, len],
        ...loopDispatch(ctx, 'DQ_DS', s.D, s.B * s.H * Math.ceil(s.Tq / dqRows(s.D)), dqRows(s.D)),
      });
      return;
    }
    rec.dispatch({
      kernel: 'attention_bwd_dq', shapes, params: u, buffers: [dq, dout, q, k, v, lse, len],
      ...loopDispatch(ctx, 'DQ', s.D, s.B * s.H * Math.ceil(s.Tq / 2)),
    });
    return;
  }
  const kv = tiles(ctx, 'dkdv', s.D);
  rec.dispatch({
    kernel: 'attention_bwd_dkdv', shapes: `${shapes} BQ=${kv.BQ} BK=${kv.BK}`, pipeline: tiledPipe(ctx, 'DKDV', s.D, kv.BQ, kv.BK),
    params: u, buffers: [dk, dv, dq, dout, q, k, v, lse, len], workgroups: [Math.ceil(kvStride / kv.BK), s.Hkv, s.B],
  });
  const qt = tiles(ctx, 'dq', s.D);
  rec.dispatch({
    kernel: 'attention_bwd_dq', shapes: `${shapes} BQ=${qt.BQ} BK=${qt.BK}`, pipeline: tiledPipe(ctx, 'DQ', s.D, qt.BQ, qt.BK),
    params: u, buffers: [dq, dout, q, k, v, lse, len], workgroups: [Math.ceil(s.Tq / qt.BQ), s.H, s.B],
  });
}
