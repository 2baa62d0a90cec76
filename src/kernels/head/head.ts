// Fused output head (lm_head + log-softmax + label gather) over the S unmasked positions only. The forward runs a
// partial pass per weight part, parallel over (vocab chunk or split) x (position block), then deterministic
// combine passes; the training forward also leaves ∂logp/∂h per position, so the backward is one scaling pass.
// See head.wgsl for the math.
import type { GpuContext } from '../../gpu/context.ts';
import type { Binding, Recorder } from '../../gpu/recorder.ts';
import { grid1d, params } from '../dispatch.ts';
import { cpuTuned, kernelEnv, type HeadTuning } from '../env.ts';
import { releaseScratch, scratchBuffer } from '../scratch.ts';
import type { WeightTensor } from '../quant/tensor.ts';
import { headCombineShader, headPartShader } from './head.gen.ts';

// The tuning fields are declared beside the knob that forces them (env.ts), so env.ts imports nothing from here.
export type { HeadTuning };

// SwiftShader runs a few workgroups per core and gains little from more; a real GPU wants thousands of threads
// in flight even when S = 1, which only splitting the vocabulary provides.
// CPU: 128 threads give each one group of 8 columns at C <= 1024, so the training forward's Σ softmax·W
// accumulators are 8 positions x 8 columns (16 vec4): measured at C = 896, q8_0, ~1.35x faster than 64 threads with
// 32 vec4 (register spills).
// The forward's logits tile is 16 positions x 8 vocab rows: each h load feeds 8 rows, as in matmul.wgsl, and the
// 145 MB q8_0 lm_head of Qwen2.5-0.5B is streamed once per 16 positions, not 8 (measured ~1.2x at V 32768-65536).
// It takes 64 threads, not the training forward's 128: best runs 3.09-3.21 s against 4.02-4.44 s (q8_0, S 331,
// V 32000, C 256 and S 32, V 151936, C 896, each order once): chunks of half the rows, a (SB, WG) fold array of
// 12 KiB instead of 24, twice the workgroups. Most of the gap is Dawn zeroing workgroup memory as each workgroup
// starts: with its disable_workgroup_init toggle (dawn.node only; a page cannot set it) 128 threads ran as fast as
// 64 (best 2.73-2.87 s against 2.73-3.05 s; without it 3.45-3.97 s against 3.01-3.23 s, S 331 V 32000 C 256).
// The training forward keeps 4 vocab rows per thread: 8 measured 51% of the roofline against 4's 58% (q8_0, S 32,
// V 151936, C 896, SwiftShader on a loaded 2-core machine), its workgroup array of probabilities then near 32 KiB.
// GPU (not timed here: no GPU at hand; by design): 64 threads (two warps, or one wave64), clamped to C's groups of
// 8 columns; 4 positions x 16 columns of Σ softmax·W per thread; a 3.5 KiB workgroup array at C 896 leaves room
// for several workgroups per SM; 1024 workgroups in flight fill an H100's 132 SMs several times over, and the
// per-chunk max fold is a broadcast read of SB x WG workgroup floats beside 64 FMAs per row.
const TUNING: Record<'cpu' | 'gpu', HeadTuning> = {
  cpu: { wg: 128, wgFwd: 64, sbFwd: 16, vptFwd: 8, vptGrad: 4, gradTile: 16, gradTarget: 64, gradScratchBytes: 32 << 20 },
  gpu: { wg: 64, wgFwd: 64, sbFwd: 8, vptFwd: 4, vptGrad: 4, gradTile: 16, gradTarget: 1024, gradScratchBytes: 64 << 20 },
};

// Forcing a set (or odd tilings): kernelEnv.head (src/kernels/env.ts); by default cpuTuned(ctx) picks.
function tuning(ctx: GpuContext): HeadTuning {
  const t = { ...TUNING[kernelEnv.head.variant ?? (cpuTuned(ctx) ? 'cpu' : 'gpu')], ...kernelEnv.head.tuning };
  // The forward's per-workgroup fold uses one thread per position.
  if (t.sbFwd > t.wgFwd) throw new Error(`output head tuning: sbFwd ${t.sbFwd} > wgFwd ${t.wgFwd}`);
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

function partPipeline(ctx: GpuContext, pass: 'fwd' | 'grad', w: WeightTensor, WG: number, SB: number, CG: number, VPT: number) {
  return ctx.compile(headPartShader, { PASS: pass, TYPE: w.type, WG, SB, CG, VPT });
}

function combinePipeline(ctx: GpuContext, pass: 'fwd' | 'grad' | 'bwd') {
  return ctx.compile(headCombineShader, { PASS: pass });
}

/** What the head's scratch sizes depend on: the weight's row parts and its width (a planned weight has no buffers). */
export type HeadWeightShape = Pick<WeightTensor, 'K'> & { parts: readonly { start: number; end: number }[] };

function chunksOf(w: HeadWeightShape, vch: number): number[] {
  return w.parts.map((p) => Math.ceil((p.end - p.start) / vch));
}

/** The forward's vocabulary chunks per part, and its partials' bytes: (S, nTotal) vec4 f32. */
function forwardLayout(ctx: GpuContext, w: HeadWeightShape, S: number) {
  const t = tuning(ctx);
  const chunks = chunksOf(w, t.wgFwd * t.vptFwd);
  const nTotal = chunks.reduce((a, b) => a + b, 0);
  return { chunks, nTotal, bytes: S * nTotal * 16 };
}

/**
 * The training forward's tiling, its splits of the vocabulary per part, and its scratch: the splits' statistics
 * (S, nTotal) vec4 f32 padded to 256 bytes (head.wgsl e_base), then their Σ exp·W partials (nTotal, S, C) f32.
 */
function gradLayout(ctx: GpuContext, w: HeadWeightShape, S: number) {
  const t = tuning(ctx);
  const C = w.K;
  const c8 = Math.ceil(C / 8);
  const cg = Math.ceil(c8 / t.wg); // groups of 8 columns per thread
  // No more threads than groups of 8 columns (rounded to SwiftShader's 4 lanes): at C = 256 a 128-thread workgroup
  // would leave 96 threads idle through the Σ softmax·W loop, the pass's half that is not the logits.
  const wg = Math.min(t.wg, Math.ceil(Math.ceil(c8 / cg) / 4) * 4);
  const vch = wg * t.vptGrad; // its (VCH, ceil(SB/4)) vec4 workgroup array grows with the rows per thread
  // Workgroup memory: (VCH, ceil(SB/4)) vec4 softmax numerators and (SB, WG) per-thread maxima, f32; the final
  // fold of the split's sums takes one thread per position.
  const fits = (sb: number) => 16 * Math.ceil(sb / 4) * vch + 4 * sb * wg <= ctx.caps.maxComputeWorkgroupStorageSize;
  let sb = Math.max(1, Math.min(8, wg, Math.floor(t.gradTile / (2 * cg))));
  while (sb > 1 && !fits(sb)) sb--;
  const rowBlocks = Math.ceil(S / sb);
  const chunks = chunksOf(w, vch);
  const nChunk = chunks.reduce((a, b) => a + b, 0);
  const rowBytes = S * C * 4;
  const maxBinding = ctx.caps.maxStorageBufferBindingSize;
  const perSplit = rowBytes + S * 16;
  if (perSplit + 256 > maxBinding) throw new Error(`output head: S=${S} x C=${C} partials exceed one storage binding`);
  const budget = Math.max(1, Math.floor((Math.min(t.gradScratchBytes, maxBinding) - 256) / perSplit));
  const want = Math.max(1, Math.min(nChunk, budget, Math.ceil(t.gradTarget / rowBlocks)));
  // Splits per part in proportion to its chunks, at least one each, at most one per chunk.
  const splits = chunks.map((c) => Math.max(1, Math.min(c, Math.round((want * c) / nChunk))));
  const nTotal = splits.reduce((a, b) => a + b, 0);
  const bytes = Math.ceil((S * nTotal * 16) / 256) * 256 + nTotal * rowBytes;
  if (bytes > maxBinding) throw new Error(`output head: ${nTotal} splits of S=${S} x C=${C} partials exceed one storage binding`);
  return { wg, vpt: t.vptGrad, cg, sb, rowBlocks, chunks, splits, nTotal, bytes };
}

/**
 * The scratch bytes the head asks scratchBuffer for at S positions: the forward-only pass's ('head.fwd') and the
 * training forward's ('head.grad'); the memory planner (train/memory-plan.ts) sizes them with the kernels' own
 * layout. Reads only ctx.caps.
 */
export function headScratchBytes(ctx: Pick<GpuContext, 'caps'>, w: HeadWeightShape, S: number, training: boolean): { forward: number; grad: number } {
  if (S === 0) return { forward: 0, grad: 0 };
  const c = ctx as GpuContext;
  return { forward: forwardLayout(c, w, S).bytes, grad: training ? gradLayout(c, w, S).bytes : 0 };
}

/**
 * logp[s] = logits_s[labels[s]] − lse[s] with logits_s = h[rows[s]] · Wᵀ; lse[s] the log-sum-exp;
 * logitSum[s] = Σ_v logits_s (TRL logs the mean raw logit). Labels must be < V.
 * With `dir` (training), also dir[s] = ∂logp[s]/∂h[rows[s]] = W[labels[s]] − Σ_v softmax(logits_s)_v · W_v for
 * outputHeadBackward: twice the forward's flops (4·S·V·C), where a backward recomputing the logits would add 4
 * more; without it (log-probs, eval, generation, a reference pass) the forward costs 2·S·V·C.
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
  dir?: GPUBuffer, // (S, C) f32: ∂logp/∂h, written only in training
): void {
  checkShapes(w, S);
  if (S === 0) return;
  const ctx = rec.ctx;
  const C = w.K;
  const shapes = `S=${S} V=${w.rows} C=${C} ${w.type} parts=${w.parts.length}`;
  const combine = (part: Binding, nTotal: number) =>
    rec.dispatch({
      kernel: 'head_fwd_combine', shapes, pipeline: combinePipeline(ctx, 'fwd'),
      params: params([S, nTotal]), buffers: [logp, lse, logitSum, part], workgroups: [Math.ceil(S / 64)],
    });
  if (!dir) {
    const t = tuning(ctx);
    const { chunks, nTotal, bytes } = forwardLayout(ctx, w, S);
    const part = { buffer: scratchBuffer(ctx, 'head.fwd', bytes), offset: 0, size: bytes }; // (S, nTotal) vec4 f32
    const pipe = partPipeline(ctx, 'fwd', w, t.wgFwd, t.sbFwd, 0, t.vptFwd);
    let base = 0;
    w.parts.forEach((wp, i) => {
      rec.dispatch({
        kernel: 'head_fwd_part', shapes, pipeline: pipe,
        params: params([S, C, wp.start, wp.end, base, nTotal, chunks[i], 1]),
        buffers: [part, logp, h, rows, labels, wp.buffer],
        workgroups: [chunks[i], Math.ceil(S / t.sbFwd)],
      });
      base += chunks[i];
    });
    combine(part, nTotal);
    return;
  }
  const { wg, vpt, cg, sb, rowBlocks, chunks, splits, nTotal, bytes } = gradLayout(ctx, w, S);
  const buffer = scratchBuffer(ctx, 'head.grad', bytes);
  const part = { buffer, offset: 0, size: bytes }; // stats (S, nTotal) vec4 f32, padded; then (nTotal, S, C) f32
  const gshapes = `${shapes} splits=${nTotal}`;
  const pipe = partPipeline(ctx, 'grad', w, wg, sb, cg, vpt);
  let base = 0;
  w.parts.forEach((wp, i) => {
    rec.dispatch({
      kernel: 'head_grad_part', shapes: gshapes, pipeline: pipe,
      params: params([S, C, wp.start, wp.end, base, nTotal, chunks[i], splits[i]]),
      buffers: [part, logp, dir, h, rows, labels, wp.buffer],
      workgroups: [splits[i], rowBlocks],
    });
    base += splits[i];
  });
  combine({ buffer, offset: 0, size: S * nTotal * 16 }, nTotal);
  rec.dispatch({
    kernel: 'head_grad_combine', shapes: gshapes, pipeline: combinePipeline(ctx, 'grad'),
    params: params([S, C / 4, nTotal]), buffers: [dir, lse, part], workgroups: grid1d(ctx, (S * C) / 4, 64),
  });
}

/**
 * dh[rows[s]] = dlogp[s] · dir[s], overwriting those rows; other rows of dh are not touched (rows must be
 * distinct). dir is what the training forward (outputHeadForward with dir) left: ∂logp/∂h, so this is the whole
 * backward of the head.
 */
export function outputHeadBackward(
  rec: Recorder,
  dh: GPUBuffer, // (M, C) f32
  dlogp: GPUBuffer, // (S) f32
  rows: GPUBuffer, // (S) u32 row index into dh
  dir: GPUBuffer, // (S, C) f32 from outputHeadForward
  S: number,
  C: number,
): void {
  if (S === 0) return;
  rec.dispatch({
    kernel: 'head_bwd', shapes: `S=${S} C=${C}`, pipeline: combinePipeline(rec.ctx, 'bwd'),
    params: params([S, C / 4]), buffers: [dh, dlogp, rows, dir], workgroups: grid1d(rec.ctx, (S * C) / 4, 64),
  });
}
