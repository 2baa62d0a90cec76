// Per-sequence log-prob sums, the squared global gradient norm and the clip coefficient. All deterministic
// (fixed tree orders), so a training step reproduces bit for bit.
// Where the device's subgroups all have one size, they reduce within one subgroup per workgroup instead.
import type { GpuContext } from '../../gpu/context.ts';
import { GpuError } from '../../gpu/errors.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import { kernelEnv } from '../env.ts';
import src from './reduce.wgsl?raw';

/** Threads per workgroup of the shared-memory tree. */
const WG = 256;
/** Elements reduced by one first-stage workgroup of sumSquares (WG * ELEMS in reduce.wgsl), in either layout. */
const BLOCK = WG * 64;

type ReduceKernel = 'SEGMENT' | 'SUMSQ_PART' | 'SUMSQ_FINAL' | 'CLIP';

export const reduceShader = defineShader(
  'reduce',
  'reduce.wgsl: KERNEL SEGMENT|SUMSQ_PART|SUMSQ_FINAL|CLIP, SUBGROUPS (a workgroup of one subgroup of WG threads; else a tree over WG)',
  { KERNEL: 'SEGMENT' as ReduceKernel, SUBGROUPS: false, WG },
  (d) => preprocess(src, { [d.KERNEL]: true, SUBGROUPS: d.SUBGROUPS, WG: d.WG, ELEMS: BLOCK / d.WG }),
);

/**
 * The workgroup reduction's layout (kernelEnv.reduce.subgroups): one subgroup per workgroup (subgroupAdd) where the
 * device's subgroups all have one power-of-two size ('auto'); true insists (an error elsewhere), false keeps the
 * shared-memory tree. CPU adapters too: on SwiftShader (subgroups of 4) the tree's eight barriers cost far more
 * than four-wide workgroups (measured, 2 loaded vCPUs, best of 4 over 3 rounds: sumSquares over 8.8M gradients
 * 82-262 ms vs 660-955 ms with the tree; segmentSum over 16 x 512 log-probs 0.22-0.51 ms vs 16-51 ms).
 */
export function reduceLayout(ctx: GpuContext): { subgroups: boolean; wg: number } {
  const { subgroups: has, subgroupMinSize: min, subgroupMaxSize: max } = ctx.caps;
  const fits = has && min === max && min >= 4 && min <= WG && (min & (min - 1)) === 0;
  const want = kernelEnv.reduce.subgroups;
  if (want === true && !fits) throw new GpuError('unsupported', `subgroup reductions need subgroups of one size (device: ${has ? `${min}-${max}` : 'none'})`, 'reduce');
  const use = want === true || (want === 'auto' && fits);
  return use ? { subgroups: true, wg: min } : { subgroups: false, wg: WG };
}

function pipe(ctx: GpuContext, KERNEL: ReduceKernel) {
  // CLIP is one thread: no reduction to lay out.
  const { subgroups, wg } = KERNEL === 'CLIP' ? { subgroups: false, wg: WG } : reduceLayout(ctx);
  return ctx.compile(reduceShader, { KERNEL, SUBGROUPS: subgroups, WG: wg });
}

/** Segment g is values[offsets[g] .. offsets[g+1]); an empty segment gives sum 0 and mean 0. */
export function segmentSum(
  rec: Recorder,
  sums: GPUBuffer, // (G) f32
  means: GPUBuffer, // (G) f32
  values: GPUBuffer, // (S) f32 token log-probs
  offsets: GPUBuffer, // (G+1) u32, non-decreasing
  G: number,
): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: 'segment_sum', shapes: `G=${G}`, pipeline: pipe(ctx, 'SEGMENT'),
    params: params([G]), buffers: [sums, means, values, offsets], workgroups: grid1d(ctx, G, 1),
  });
}

/** Bytes of the `scratch` buffer that sumSquares needs for these parts (one f32 per block of 16384 elements). */
export function sumSquaresScratchBytes(parts: { n: number }[]): number {
  return 4 * Math.max(1, parts.reduce((a, p) => a + Math.ceil(p.n / BLOCK), 0));
}

/** out[0] = Σ over all parts of Σ x² (the squared global gradient norm). */
export function sumSquares(
  rec: Recorder,
  out: GPUBuffer, // (1) f32
  parts: { buffer: GPUBuffer; n: number }[], // each (n) f32
  scratch: GPUBuffer, // (sumSquaresScratchBytes(parts) / 4) f32
): void {
  const ctx = rec.ctx;
  const need = sumSquaresScratchBytes(parts);
  if (scratch.size < need) throw new Error(`sumSquares: scratch has ${scratch.size} bytes, needs ${need}`);
  const partPipe = pipe(ctx, 'SUMSQ_PART');
  let offset = 0;
  for (const p of parts) {
    const blocks = Math.ceil(p.n / BLOCK);
    rec.dispatch({
      kernel: 'sum_squares_part', shapes: `n=${p.n} at ${offset}`, pipeline: partPipe,
      params: params([p.n, offset]), buffers: [scratch, p.buffer], workgroups: grid1d(ctx, blocks, 1),
    });
    offset += blocks;
  }
  rec.dispatch({
    kernel: 'sum_squares_final', shapes: `blocks=${offset}`, pipeline: pipe(ctx, 'SUMSQ_FINAL'),
    params: params([offset]), buffers: [out, scratch], workgroups: [1],
  });
}

/** torch clip_grad_norm_: scale = min(1, maxNorm / (sqrt(normSq) + 1e-6)); maxNorm <= 0 or not finite gives 1. */
export function clipScale(
  rec: Recorder,
  scale: GPUBuffer, // (1) f32
  normSq: GPUBuffer, // (1) f32
  maxNorm: number,
): void {
  const ctx = rec.ctx;
  const enabled = maxNorm > 0 && Number.isFinite(maxNorm);
  rec.dispatch({
    kernel: 'clip_scale', shapes: `maxNorm=${maxNorm}`, pipeline: pipe(ctx, 'CLIP'),
    params: params([{ f32: enabled ? maxNorm : 0 }, enabled ? 1 : 0]), buffers: [scale, normSq], workgroups: [1],
  });
}
