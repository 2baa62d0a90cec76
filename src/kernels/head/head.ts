// Fused output head (lm_head + log-softmax + label gather) over the S unmasked positions only.
// Forward and backward each run a partial pass per weight part, parallel over (vocab chunk or split) x (position
// block), then one deterministic combine pass. See head.wgsl for the math.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { grid1d, params } from '../dispatch.ts';
import { cpuTuned, kernelEnv, type HeadTuning } from '../env.ts';
import { releaseScratch, scratchBuffer } from '../scratch.ts';
import type { WeightTensor } from '../quant/tensor.ts';
import { headCombineShader, headPartShader } from './head.gen.ts';

// The tuning fields are declared beside the knob that forces them (env.ts), so env.ts imports nothing from here.
export type { HeadTuning };

// SwiftShader runs a few workgroups per core and gains little from more; a real GPU wants thousands of threads
// in flight even when S = 1, which only splitting the vocabulary provides.
// CPU: 128 threads give each one group of 8 columns at C <= 1024, so the backward's accumulators are 8 positions x
// 8 columns (16 vec4): measured at C = 896, q8_0, ~1.35x faster than 64 threads with 32 vec4 (register spills).
// The forward's logits tile is 16 positions x 8 vocab rows: each h load feeds 8 rows, as in matmul.wgsl, and the
// 145 MB q8_0 lm_head of Qwen2.5-0.5B is streamed once per 16 positions, not 8 (measured ~1.2x at V 32768-65536).
const TUNING: Record<'cpu' | 'gpu', HeadTuning> = {
  cpu: { wg: 128, sbFwd: 16, vptFwd: 8, bwdTile: 16, bwdTarget: 64, bwdScratchBytes: 32 << 20 },
  gpu: { wg: 64, sbFwd: 8, vptFwd: 4, bwdTile: 16, bwdTarget: 1024, bwdScratchBytes: 64 << 20 },
};

// Forcing a set (or odd tilings): kernelEnv.head (src/kernels/env.ts); by default cpuTuned(ctx) picks.
function tuning(ctx: GpuContext): HeadTuning {
  const t = { ...TUNING[kernelEnv.head.variant ?? (cpuTuned(ctx) ? 'cpu' : 'gpu')], ...kernelEnv.head.tuning };
  // The forward's per-workgroup fold uses one thread per position.
  if (t.sbFwd > t.wg) throw new Error(`output head tuning: sbFwd ${t.sbFwd} > wg ${t.wg}`);
  return t;
}

/** Frees the head's cached partial buffers (call only with no recorder pending). */
export function releaseHeadScratch(ctx: GpuContext): void {
  releaseScratch(ctx, 'head.');
}

function checkShapes(w: WeightTensor, S: number): void {
  if (w.K % 4 !== 0) throw new Error(`output head: C=${w.K} must be a multiple of 4`);
  if (!Number.isInteger(S) || S < 0) throw new Error(`output head: bad S=${S}`);
}

const VPT_BWD = 4; // vocab rows per thread per chunk in the backward (its (SB, VCH) workgroup array grows with it)

function partPipeline(ctx: GpuContext, FORWARD: boolean, w: WeightTensor, SB: number, CG: number, t: HeadTuning) {
  return ctx.compile(headPartShader, { FORWARD, TYPE: w.type, WG: t.wg, SB, CG: FORWARD ? 0 : CG, VPT: FORWARD ? t.vptFwd : VPT_BWD });
}

function combinePipeline(ctx: GpuContext, FORWARD: boolean) {
  return ctx.compile(headCombineShader, { FORWARD });
}

/** What the head's scratch sizes depend on: the weight's row parts and its width (a planned weight has no buffers). */
export type HeadWeightShape = Pick<WeightTensor, 'K'> & { parts: readonly { start: number; end: number }[] };

function chunksOf(w: HeadWeightShape, vch: number): number[] {
  return w.parts.map((p) => Math.ceil((p.end - p.start) / vch));
}

/** The forward's vocabulary chunks per part, and its partials' bytes: (S, nTotal) vec4 f32. */
function forwardLayout(ctx: GpuContext, w: HeadWeightShape, S: number) {
  const t = tuning(ctx);
  const chunks = chunksOf(w, t.wg * t.vptFwd);
  const nTotal = chunks.reduce((a, b) => a + b, 0);
  return { chunks, nTotal, bytes: S * nTotal * 16 };
}

/** The backward's tiling, its splits of the vocabulary per part, and its partials' bytes: (nTotal, S, C) f32. */
function backwardLayout(ctx: GpuContext, w: HeadWeightShape, S: number) {
  const t = tuning(ctx);
  const C = w.K;
  const cg = Math.ceil(Math.ceil(C / 8) / t.wg); // groups of 8 columns per thread
  const sb = Math.max(1, Math.min(8, Math.floor(t.bwdTile / (2 * cg))));
  const rowBlocks = Math.ceil(S / sb);
  const chunks = chunksOf(w, t.wg * VPT_BWD);
  const nChunk = chunks.reduce((a, b) => a + b, 0);
  const rowBytes = S * C * 4;
  const maxBinding = ctx.caps.maxStorageBufferBindingSize;
  if (rowBytes > maxBinding) throw new Error(`output head backward: S=${S} x C=${C} partials exceed one storage binding`);
  const budget = Math.max(1, Math.floor(Math.min(t.bwdScratchBytes, maxBinding) / rowBytes));
  const want = Math.max(1, Math.min(nChunk, budget, Math.ceil(t.bwdTarget / rowBlocks)));
  // Splits per part in proportion to its chunks, at least one each, at most one per chunk.
  const splits = chunks.map((c) => Math.max(1, Math.min(c, Math.round((want * c) / nChunk))));
  const nTotal = splits.reduce((a, b) => a + b, 0);
  return { cg, sb, rowBlocks, chunks, splits, nTotal, bytes: nTotal * rowBytes };
}

/**
 * The scratch bytes the head's forward ('head.fwd') and backward ('head.bwd') ask scratchBuffer for at S positions:
 * the memory planner (train/memory-plan.ts) sizes them with the kernels' own layout. Reads only ctx.caps.
 */
export function headScratchBytes(ctx: Pick<GpuContext, 'caps'>, w: HeadWeightShape, S: number, backward: boolean): { forward: number; backward: number } {
  if (S === 0) return { forward: 0, backward: 0 };
  const c = ctx as GpuContext;
  return { forward: forwardLayout(c, w, S).bytes, backward: backward ? backwardLayout(c, w, S).bytes : 0 };
}

/**
 * logp[s] = logits_s[labels[s]] − lse[s] with logits_s = h[rows[s]] · Wᵀ; lse saved for the backward;
 * logitSum[s] = Σ_v logits_s (TRL logs the mean raw logit). Labels must be < V.
 */
export function outputHeadForward(
  rec: Recorder,
  logp: GPUBuffer, // (S) f32
  lse: GPUBuffer, // (S) f32
  logitSum: GPUBuffer, // (S) f32
  h: GPUBuffer, // (M, C) f32 final-normed hidden
  rows: GPUBuffer, // (S) u32 row index into h
  labels: GPUBuffer, // (S) u32 token id
  w: WeightTensor, // (V, C)
  S: number,
): void {
  checkShapes(w, S);
  if (S === 0) return;
  const ctx = rec.ctx;
  const t = tuning(ctx);
  const { chunks, nTotal, bytes: partBytes } = forwardLayout(ctx, w, S);
  const C = w.K;
  const part = { buffer: scratchBuffer(ctx, 'head.fwd', partBytes), offset: 0, size: partBytes }; // (S, nTotal) vec4 f32
  const rowBlocks = Math.ceil(S / t.sbFwd);
  const shapes = `S=${S} V=${w.rows} C=${C} ${w.type} parts=${w.parts.length}`;
  const pipe = partPipeline(ctx, true, w, t.sbFwd, 1, t);
  let base = 0;
  w.parts.forEach((wp, i) => {
    rec.dispatch({
      kernel: 'head_fwd_part', shapes, pipeline: pipe,
      params: params([S, C, wp.start, wp.end, base, nTotal, chunks[i], 1]),
      buffers: [part, logp, h, rows, labels, wp.buffer],
      workgroups: [chunks[i], rowBlocks],
    });
    base += chunks[i];
  });
  rec.dispatch({
    kernel: 'head_fwd_combine', shapes, pipeline: combinePipeline(ctx, true),
    params: params([S, nTotal]), buffers: [logp, lse, logitSum, part], workgroups: [Math.ceil(S / 64)],
  });
}

/**
 * dh[rows[s]] = dlogp[s] · (W[labels[s]] − Σ_v softmax(logits_s)_v · W_v), overwriting those rows; other rows of dh
 * are not touched (rows must be distinct). Its parameters repeat the forward's on purpose, each with its shape, so
 * the pair reads side by side as llm.c's layers do.
 */
export function outputHeadBackward(
  rec: Recorder,
  dh: GPUBuffer, // (M, C) f32
  dlogp: GPUBuffer, // (S) f32
  h: GPUBuffer, // (M, C) f32
  rows: GPUBuffer, // (S) u32
  labels: GPUBuffer, // (S) u32
  lse: GPUBuffer, // (S) f32 from outputHeadForward
  w: WeightTensor, // (V, C)
  S: number,
): void {
  checkShapes(w, S);
  if (S === 0) return;
  const ctx = rec.ctx;
  const t = tuning(ctx);
  const C = w.K;
  const C4 = C / 4;
  const { cg, sb, rowBlocks, chunks, splits, nTotal, bytes } = backwardLayout(ctx, w, S);
  const part = { buffer: scratchBuffer(ctx, 'head.bwd', bytes), offset: 0, size: bytes }; // (nTotal, S, C) f32
  const shapes = `S=${S} V=${w.rows} C=${C} ${w.type} parts=${w.parts.length} splits=${nTotal}`;
  const pipe = partPipeline(ctx, false, w, sb, cg, t);
  let base = 0;
  w.parts.forEach((wp, i) => {
    rec.dispatch({
      kernel: 'head_bwd_part', shapes, pipeline: pipe,
      params: params([S, C, wp.start, wp.end, base, nTotal, chunks[i], splits[i]]),
      buffers: [part, h, rows, labels, lse, wp.buffer],
      workgroups: [splits[i], rowBlocks],
    });
    base += splits[i];
  });
  rec.dispatch({
    kernel: 'head_bwd_combine', shapes, pipeline: combinePipeline(ctx, false),
    params: params([S, C4, nTotal]), buffers: [dh, dlogp, rows, part], workgroups: grid1d(ctx, S * C4, 64),
  });
}
