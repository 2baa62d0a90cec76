// Per-sequence log-prob sums, the squared global gradient norm and the clip coefficient. All deterministic
// (fixed tree orders), so a training step reproduces bit for bit.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './reduce.wgsl?raw';

const WG = 256;
/** Elements reduced by one first-stage workgroup of sumSquares (WG * ELEMS in reduce.wgsl). */
const BLOCK = WG * 64;

type ReduceKernel = 'SEGMENT' | 'SUMSQ_PART' | 'SUMSQ_FINAL' | 'CLIP';

export const reduceShader = defineShader('reduce', 'reduce.wgsl: KERNEL SEGMENT|SUMSQ_PART|SUMSQ_FINAL|CLIP', { KERNEL: 'SEGMENT' as ReduceKernel }, (d) =>
  preprocess(src, { [d.KERNEL]: true }),
);

function pipe(ctx: GpuContext, KERNEL: ReduceKernel) {
  return ctx.compile(reduceShader, { KERNEL });
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
