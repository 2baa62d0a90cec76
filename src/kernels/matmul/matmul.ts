// Y = X·Wᵀ and dX = dY·W against a base weight (any WeightType, dequantized in registers, split into parts).
// Two variants, chosen from ctx.caps: 'register' (barrier-free 8x8 register tiles, for CPU rasterizers) and
// 'shared' (64x64 workgroup-memory tiles, for real GPUs). Both serve every weight type. The forward has a third,
// 'matvec' (M x 4 register tiles, all M <= MATVEC_MAX_ROWS rows at once), which a CPU adapter uses for decoding's
// few rows, where the 8-row register tiles would redo clamped rows' work. The shared variant holds its dequantized
// weights as f16 where the device has shader-f16 (halfWeights); products and sums are f32 in every variant.
// No variant splits one output's sum across invocations (each sums its outputs over the whole of K), so none has a
// cross-invocation reduction for subgroupAdd; the kernels that do (RMSNorm's rows, ../reduce) use subgroups.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import { cpuTuned, kernelEnv } from '../env.ts';
import type { WeightTensor } from '../quant/tensor.ts';
import { GpuError } from '../../gpu/errors.ts';
import { halfHeader, weightDefines, weightLoaderSource } from '../quant/weights.ts';
import type { WeightType } from '../quant/formats.ts';
import registerSrc from './matmul.wgsl?raw';
import sharedSrc from './matmul_shared.wgsl?raw';
import vecSrc from './matmul_vec.wgsl?raw';

export type MatmulVariant = 'register' | 'shared';
export type MatmulForwardVariant = MatmulVariant | 'matvec';

/** The most rows of X the matvec forward takes (its accumulators are one register set per row). */
export const MATVEC_MAX_ROWS = 8;

export interface MatmulOptions {
  /** (N) f32, added to every row of Y. */
  bias?: GPUBuffer;
  /** Add into Y instead of overwriting it. */
  accumulate?: boolean;
  /** Force a variant for this call; by default kernelEnv.matmul.variant, else chosen from ctx.caps and M. */
  variant?: MatmulForwardVariant;
}

export function defaultVariant(ctx: GpuContext): MatmulVariant {
  const forced = kernelEnv.matmul.variant;
  if (forced === 'register' || forced === 'shared') return forced;
  return cpuTuned(ctx) ? 'register' : 'shared';
}

/** The forward's variant for M rows: matvec for decoding's few rows on a CPU adapter. */
export function defaultForwardVariant(ctx: GpuContext, M: number): MatmulForwardVariant {
  const forced = kernelEnv.matmul.variant;
  if (forced === 'matvec' && M <= MATVEC_MAX_ROWS) return 'matvec';
  if (forced) return defaultVariant(ctx);
  return cpuTuned(ctx) && M <= MATVEC_MAX_ROWS ? 'matvec' : defaultVariant(ctx);
}

/**
 * Whether the shared variant dequantizes this weight to f16 (kernelEnv.matmul.f16): only with shader-f16, and only
 * for weights stored in 16 bits or fewer (an f32 weight would be rounded). 'auto' wherever both hold; true insists
 * on shader-f16 (an error elsewhere); false keeps f32.
 */
export function halfWeights(ctx: GpuContext, type: WeightType): boolean {
  const want = kernelEnv.matmul.f16;
  if (want === true && !ctx.caps.f16) throw new GpuError('unsupported', 'f16 matmul needs the shader-f16 feature, which this device lacks', 'matmul');
  return want !== false && ctx.caps.f16 && type !== 'f32';
}

export const matvecShader = defineShader(
  'matmul_matvec',
  'matmul_vec.wgsl (forward): TYPE f32|f16|q8_0|q4_0, ROWS 1..8, HAS_BIAS, ACCUM',
  { TYPE: 'q4_0' as WeightType, ROWS: 1, HAS_BIAS: false, ACCUM: false },
  (d) => {
    const rows = Object.fromEntries([2, 3, 4, 5, 6, 7, 8].map((r) => [`R${r}`, d.ROWS >= r]));
    return preprocess(`${weightLoaderSource}\n${vecSrc}`, { ...weightDefines(d.TYPE), ...rows, HAS_BIAS: d.HAS_BIAS, ACCUM: d.ACCUM });
  },
);

export const matmulShader = defineShader(
  'matmul',
  'matmul.wgsl (register) or matmul_shared.wgsl (shared): VARIANT, FORWARD (else dX), TYPE f32|f16|q8_0|q4_0, HAS_BIAS, ACCUM, F16 (shared: weights dequantized to f16)',
  { VARIANT: 'register' as MatmulVariant, FORWARD: true, TYPE: 'q8_0' as WeightType, HAS_BIAS: false, ACCUM: false, F16: false },
  // Module-scope declarations may come in any order: the loaders can precede the `w` they read. The shared
  // variant's weights are `hf`, declared first (enable must precede every declaration).
  (d) => {
    const shared = d.VARIANT === 'shared';
    return preprocess(`${shared ? halfHeader(d.F16) : ''}${weightLoaderSource}\n${shared ? sharedSrc : registerSrc}`, {
      ...weightDefines(d.TYPE), FORWARD: d.FORWARD, HAS_BIAS: d.HAS_BIAS, ACCUM: d.ACCUM, HF: shared,
    });
  },
);

function vecPipe(ctx: GpuContext, TYPE: WeightType, ROWS: number, HAS_BIAS: boolean, ACCUM: boolean) {
  return ctx.compile(matvecShader, { TYPE, ROWS, HAS_BIAS, ACCUM });
}

function pipe(ctx: GpuContext, VARIANT: MatmulVariant, FORWARD: boolean, TYPE: WeightType, HAS_BIAS: boolean, ACCUM: boolean) {
  const F16 = VARIANT === 'shared' && halfWeights(ctx, TYPE);
  return ctx.compile(matmulShader, { VARIANT, FORWARD, TYPE, HAS_BIAS, ACCUM, F16 });
}

function shapes(M: number, w: WeightTensor, extra = ''): string {
  return `M=${M} N=${w.rows} K=${w.K} ${w.type} parts=${w.parts.length}${extra}`;
}

/** Y (M, N) = X (M, K) · Wᵀ (+ bias) (+ Y if accumulate).  N = w.rows, K = w.K. */
export function matmulForward(rec: Recorder, y: GPUBuffer, x: GPUBuffer, w: WeightTensor, M: number, opts: MatmulOptions = {}): void {
  const ctx = rec.ctx;
  if (M === 0) return;
  const variant = opts.variant ?? defaultForwardVariant(ctx, M);
  const bias = opts.bias;
  if (variant === 'matvec') {
    if (M > MATVEC_MAX_ROWS) throw new Error(`matmulForward: matvec takes at most ${MATVEC_MAX_ROWS} rows, got ${shapes(M, w)}`);
    const pipeline = vecPipe(ctx, w.type, M, !!bias, !!opts.accumulate);
    for (const part of w.parts) {
      const Np = part.end - part.start;
      rec.dispatch({
        kernel: 'matmul_fwd_matvec', shapes: shapes(M, w, ` part=${part.start}:${part.end}`), pipeline,
        buffers: bias ? [y, x, part.buffer, bias] : [y, x, part.buffer],
        params: params([M, Np, w.K, part.start, w.rows]), workgroups: grid1d(ctx, Math.ceil(Np / 4), 64), // 4 columns of Y per invocation
      });
    }
    return;
  }
  const pipeline = pipe(ctx, variant, true, w.type, !!bias, !!opts.accumulate);
  const K = w.K;
  for (const part of w.parts) {
    const Np = part.end - part.start;
    const tiles = Math.ceil(Np / 8); // register tiles are 8 rows x 8 columns of Y
    const buffers = bias ? [y, x, part.buffer, bias] : [y, x, part.buffer];
    rec.dispatch({
      kernel: `matmul_fwd_${variant}`, shapes: shapes(M, w, ` part=${part.start}:${part.end}`), pipeline, buffers,
      params: params([M, Np, K, part.start, w.rows, tiles]),
      workgroups: variant === 'register' ? grid1d(ctx, Math.ceil(M / 8) * tiles, 64) : [Math.ceil(Np / 64), Math.ceil(M / 64)],
    });
  }
}

/** dX (M, K) = dY (M, N) · W (+ dX if accumulate). The base weight gets no gradient. */
export function matmulBackwardInput(rec: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: WeightTensor, M: number, opts: { accumulate?: boolean; variant?: MatmulVariant } = {}): void {
  const ctx = rec.ctx;
  if (M === 0) return;
  const variant = opts.variant ?? defaultVariant(ctx);
  const K = w.K;
  const tiles = Math.ceil(K / 8); // register tiles are 8 rows x 8 columns of dX
  w.parts.forEach((part, i) => {
    const Np = part.end - part.start;
    // Parts after the first add their rows' share of the sum into what the earlier ones wrote.
    const accum = !!opts.accumulate || i > 0;
    rec.dispatch({
      kernel: `matmul_bwd_${variant}`, shapes: shapes(M, w, ` part=${part.start}:${part.end}`),
      pipeline: pipe(ctx, variant, false, w.type, false, accum), buffers: [dx, dy, part.buffer],
      params: params([M, Np, K, part.start, w.rows, tiles]),
      workgroups: variant === 'register' ? grid1d(ctx, Math.ceil(M / 8) * tiles, 64) : [Math.ceil(K / 64), Math.ceil(M / 64)],
    });
  });
}

/**
 * A plain f32 matmul for the bench's roofline, in either layout: 'nt' is Y = X·Wᵀ with W (N, K), through
 * matmulForward; 'nn' is Y = X·B with B (K, N) row-major (B as a WeightTensor of K rows of N), through
 * matmulBackwardInput's kernel. The bench times both and takes the faster as the roofline.
 */
export function matmulRoofline(rec: Recorder, y: GPUBuffer, x: GPUBuffer, w: WeightTensor, M: number, layout: 'nt' | 'nn' = 'nt'): void {
  if (w.type !== 'f32') throw new Error(`matmulRoofline: needs an f32 weight, got ${w.type}`);
  if (layout === 'nt') matmulForward(rec, y, x, w, M);
  else matmulBackwardInput(rec, y, x, w, M);
}
