// LoRA adapter on one linear layer: y += scale · drop(x)·Aᵀ·Bᵀ, kept apart from the base matmul.
// M rows (B*T), K in features, N out features, R rank. All six products go through one strided kernel
// (lora.wgsl); on a CPU adapter the two over R (y += u·Bᵀ, dx += du·A) take its SHORT form, measured ~1.5x
// faster at 64x896->4864 (the tile form there: ~1.0 GFLOP/s). The dropout mask is a hash of (seed, index into x),
// so backward re-derives it instead of storing it: a DROP_X pass writes drop(x) into a scratch buffer that the
// products then read, one hash per element (hashing inside the register tiles took one per element per tile, and
// the hash's shifts are slow on SwiftShader). At 64x896->4864, p 0.05, dropout's cost over the plain forward
// went from ~28% to ~13% (bench, SwiftShader).
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { grid1d, params } from '../dispatch.ts';
import { cpuTuned, kernelEnv } from '../env.ts';
import { scratchBuffer } from '../scratch.ts';
import { loraShader, SHORT_COLS } from './lora.gen.ts';

export interface LoraDropout {
  /** Probability of dropping an element of x; 0 means no dropout. */
  p: number;
  /** Seed of the mask: the caller varies it per step and per adapted layer. */
  seed: number;
}

/** lowbias32, as `hash32` in lora.wgsl (the reference rebuilds the mask from it). */
export function hash32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The integers the kernel compares against; integer thresholds keep GPU and host masks identical. Each 32-bit
 * hash decides two elements, 16 bits each, so p is rounded up to a multiple of 2^-16 (at most 1 - 2^-16).
 */
export function dropoutKeys(d: LoraDropout): { threshold: number; thresholdHi: number; seedHash: number; mul: number } {
  if (!(d.p > 0)) return { threshold: 0, thresholdHi: 0, seedHash: 0, mul: 1 };
  const threshold = Math.min(Math.ceil(d.p * 2 ** 16), 2 ** 16 - 1);
  return { threshold, thresholdHi: threshold * 2 ** 16, seedHash: hash32((d.seed >>> 0) ^ 0x5bd1e995), mul: 1 / (1 - d.p) };
}

// SwiftShader spreads workgroups over its threads and runs one workgroup's invocations 4 at a time on one:
// small workgroups let a skinny product (64 tiles for u at M=64, R=16) use every core.
const CPU_WG = 8;

// Where a product applies the dropout mask itself: only dx's output (its input x comes in already dropped).
type DropSite = 'none' | 'out';

// Forcing the split, workgroup, tile or SHORT form: kernelEnv.lora (src/kernels/env.ts).

/** The largest R the SHORT kernel takes: it unrolls R and keeps 4R values per invocation in registers. */
const SHORT_MAX_R = 64;

function pipe(ctx: GpuContext, WG: number, SPLIT: boolean, ACCUM: boolean, drop: DropSite, TA: number, TB: number) {
  return ctx.compile(loraShader, { KERNEL: 'TILE', WG, SPLIT, ACCUM, DROP_OUT: drop === 'out', TA, TB });
}

function shortPipe(ctx: GpuContext, WG: number, ACCUM: boolean, drop: DropSite, R: number) {
  return ctx.compile(loraShader, { KERNEL: 'SHORT', WG, SPLIT: false, ACCUM, DROP_OUT: drop === 'out', TA: R, TB: 0 });
}

/** Whether a product over R runs as the SHORT kernel: a CPU adapter's choice, unless a test forces it. */
function useShort(ctx: GpuContext, q: Product): boolean {
  if (q.reduce || q.nT > SHORT_MAX_R) return false;
  if (kernelEnv.lora.short !== 'auto') return kernelEnv.lora.short;
  return cpuTuned(ctx) && kernelEnv.lora.tile === 'auto';
}

// Measured on SwiftShader at Qwen2.5-0.5B shapes (M 16-64, R 16): products with a long reduction (over K or N)
// run best as 8 x 8 tiles (4 x 8 at M 16: ~1.5 GFLOP/s vs ~0.9 for 4 x 4; 8 x 8 ~1.2x over 4 x 8 at M 64);
// those over R or M (16 terms) as 8 x 16 (~1.0 vs ~0.6), where each output's load-accumulate-store and the loop
// set-up weigh as much as its 16 FMAs. A GPU keeps 4 x 4 tiles: it wants the many threads, not the reuse.
function autoTile(ctx: GpuContext, q: Product): [number, number] {
  if (!cpuTuned(ctx)) return [4, 4];
  return q.reduce && q.nT >= 128 ? [8, 8] : [8, 16];
}

function chooseSplit(ctx: GpuContext, wg: number, tiles: number, nT: number): number {
  if (kernelEnv.lora.split !== 'auto') return kernelEnv.lora.split;
  // SwiftShader runs a barrier by switching coroutines: measured 5-30x slower than the unsplit loop.
  if (cpuTuned(ctx)) return 1;
  // A CPU rasterizer needs only enough invocations for its cores and pays for barriers; a GPU wants tens of
  // thousands of threads. Below ~32 terms per invocation the partial sums cost more than they save.
  const target = cpuTuned(ctx) ? 1024 : 32768;
  let s = 1;
  while (s < wg && tiles * s < target && nT / (2 * s) >= 32) s *= 2;
  return s;
}

interface Product {
  kernel: string;
  shapes: string;
  out: GPUBuffer; // (nA, nB) f32
  l: GPUBuffer;
  r: GPUBuffer;
  nA: number;
  nB: number;
  nT: number;
  la: number;
  lt: number;
  rb: number;
  rt: number;
  scale: number;
  accum: boolean;
  drop: DropSite;
  dropout?: LoraDropout;
  /** Products whose reduction is long (over K, N or M) may split it; those over R never need to. */
  reduce: boolean;
}

function product(rec: Recorder, q: Product): void {
  const ctx = rec.ctx;
  if (q.nA === 0 || q.nB === 0) return;
  const wg = kernelEnv.lora.wg === 'auto' ? (cpuTuned(ctx) ? CPU_WG : 64) : kernelEnv.lora.wg;
  const drop = q.dropout && q.dropout.p > 0 ? q.drop : 'none';
  const keys = dropoutKeys(drop === 'none' ? { p: 0, seed: 0 } : q.dropout!);
  const uniforms = (split: number, rows: number) =>
    params([q.nA, q.nB, q.nT, q.la, q.lt, q.rb, q.rt, split, { f32: q.scale }, keys.threshold, keys.seedHash, { f32: keys.mul }, rows, keys.thresholdHi]);
  if (useShort(ctx, q)) {
    // Enough row blocks for ~256 invocations (a few per SwiftShader lane), each at least 8 rows long.
    const ncol = Math.ceil(q.nB / (4 * SHORT_COLS)) * 4;
    const blocks = Math.max(1, Math.min(Math.ceil(q.nA / 8), Math.ceil(256 / ncol)));
    const rows = Math.ceil(q.nA / blocks);
    rec.dispatch({
      kernel: q.kernel, shapes: q.shapes, pipeline: shortPipe(ctx, wg, q.accum, drop, q.nT),
      params: uniforms(1, rows), buffers: [q.out, q.l, q.r], workgroups: grid1d(ctx, ncol * Math.ceil(q.nA / rows), wg),
    });
    return;
  }
  let [ta, tb] = kernelEnv.lora.tile === 'auto' ? autoTile(ctx, q) : kernelEnv.lora.tile;
  let tiles = Math.ceil(q.nA / ta) * Math.ceil(q.nB / tb);
  let split = q.reduce ? chooseSplit(ctx, wg, tiles, q.nT) : 1;
  // A split reduction parks every invocation's whole tile in workgroup memory: keep that to 4 x 4.
  if (split > 1 && kernelEnv.lora.tile === 'auto' && ta * tb > 16) {
    [ta, tb] = [4, 4];
    tiles = Math.ceil(q.nA / ta) * Math.ceil(q.nB / tb);
    split = chooseSplit(ctx, wg, tiles, q.nT);
  }
  if (!(split >= 1 && split <= wg && (split & (split - 1)) === 0)) throw new Error(`lora: split ${split} must be a power of two <= ${wg}`);
  rec.dispatch({
    kernel: q.kernel,
    shapes: q.shapes,
    pipeline: pipe(ctx, wg, split > 1, q.accum, drop, ta, tb),
    params: uniforms(split, 0),
    buffers: [q.out, q.l, q.r],
    workgroups: grid1d(ctx, tiles * split, wg),
  });
}

/** drop(x) (n elements) in the 'lora.xd' scratch, or x itself without dropout. */
function dropped(rec: Recorder, x: GPUBuffer, n: number, dropout: LoraDropout | undefined): GPUBuffer {
  if (!dropout || !(dropout.p > 0) || n === 0) return x;
  const ctx = rec.ctx;
  const xd = scratchBuffer(ctx, 'lora.xd', n * 4); // (M, K) f32
  const keys = dropoutKeys(dropout);
  rec.dispatch({
    kernel: 'lora_drop_x', shapes: `n=${n} p=${dropout.p}`,
    pipeline: ctx.compile(loraShader, { KERNEL: 'DROP_X', WG: 64, SPLIT: false, ACCUM: false, DROP_OUT: false, TA: 0, TB: 0 }),
    params: params([n, 0, 0, 0, 0, 0, 0, 1, { f32: 1 }, keys.threshold, keys.seedHash, { f32: keys.mul }, 0, keys.thresholdHi]),
    buffers: [xd, x], workgroups: grid1d(ctx, Math.ceil(n / 2), 64), // a pair of elements per invocation
  });
  return xd;
}

function checkDropout(d: LoraDropout | undefined): void {
  if (d && !(d.p >= 0 && d.p < 1)) throw new Error(`lora: dropout p=${d.p} must be in [0, 1)`);
}

/**
 * u = drop(x)·Aᵀ ; y += scale·u·Bᵀ.
 * y (M, N) f32 accumulated into; u (M, R) f32 written (kept for backward); x (M, K) f32; a = lora_A (R, K) f32;
 * b = lora_B (N, R) f32.
 */
export function loraForward(
  rec: Recorder, y: GPUBuffer, u: GPUBuffer, x: GPUBuffer, a: GPUBuffer, b: GPUBuffer,
  M: number, N: number, K: number, R: number, scale: number, dropout?: LoraDropout,
): void {
  checkDropout(dropout);
  const shapes = `M=${M} N=${N} K=${K} R=${R}${dropout?.p ? ` p=${dropout.p}` : ''}`;
  if (K === 0) rec.clear(u, 0, M * R * 4);
  else product(rec, { kernel: 'lora_fwd_xa', shapes, out: u, l: dropped(rec, x, M * K, dropout), r: a, nA: M, nB: R, nT: K, la: K, lt: 1, rb: K, rt: 1, scale: 1, accum: false, drop: 'none', reduce: true });
  product(rec, { kernel: 'lora_fwd_ub', shapes, out: y, l: u, r: b, nA: M, nB: N, nT: R, la: R, lt: 1, rb: R, rt: 1, scale, accum: true, drop: 'none', reduce: false });
}

/**
 * du = scale·dy·B ; dB (+)= scale·dyᵀ·u ; dA (+)= duᵀ·drop(x) ; dx += drop'(du·A).
 * dA (R, K), dB (N, R): overwritten, or added into with accumulateGrads (gradient accumulation).
 * dx (M, K) accumulated into, or null when x needs no gradient. dy (M, N); x (M, K); u (M, R) from forward;
 * a (R, K); b (N, R); du (M, R) scratch. All f32. dx must not alias dy or x (WebGPU forbids the aliasing).
 */
export function loraBackward(
  rec: Recorder, dA: GPUBuffer, dB: GPUBuffer, dx: GPUBuffer | null, dy: GPUBuffer, x: GPUBuffer, u: GPUBuffer,
  a: GPUBuffer, b: GPUBuffer, du: GPUBuffer,
  M: number, N: number, K: number, R: number, scale: number, opts: { accumulateGrads: boolean; dropout?: LoraDropout },
): void {
  const { accumulateGrads: acc, dropout } = opts;
  checkDropout(dropout);
  const shapes = `M=${M} N=${N} K=${K} R=${R}${dropout?.p ? ` p=${dropout.p}` : ''}`;
  // With no rows there is nothing to sum: the gradients are zero, not untouched memory.
  if (M === 0) {
    if (!acc) {
      rec.clear(dA, 0, R * K * 4);
      rec.clear(dB, 0, N * R * 4);
    }
    return;
  }
  if (N === 0) rec.clear(du, 0, M * R * 4);
  else product(rec, { kernel: 'lora_bwd_du', shapes, out: du, l: dy, r: b, nA: M, nB: R, nT: N, la: N, lt: 1, rb: 1, rt: R, scale, accum: false, drop: 'none', reduce: true });
  product(rec, { kernel: 'lora_bwd_dB', shapes, out: dB, l: dy, r: u, nA: N, nB: R, nT: M, la: 1, lt: N, rb: 1, rt: R, scale, accum: acc, drop: 'none', reduce: true });
  product(rec, { kernel: 'lora_bwd_dA', shapes, out: dA, l: du, r: dropped(rec, x, M * K, dropout), nA: R, nB: K, nT: M, la: 1, lt: R, rb: 1, rt: K, scale: 1, accum: acc, drop: 'none', reduce: true });
  if (dx) product(rec, { kernel: 'lora_bwd_dx', shapes, out: dx, l: du, r: a, nA: M, nB: K, nT: R, la: R, lt: 1, rb: 1, rt: K, scale: 1, accum: true, drop: 'out', dropout, reduce: false });
}
