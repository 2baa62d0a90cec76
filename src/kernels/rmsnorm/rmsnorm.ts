// RMSNorm forward and backward over M rows of C (Llama's; the weight is frozen, so there is no dw).
import type { GpuContext } from '../../gpu/context.ts';
import { GpuError } from '../../gpu/errors.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import { cpuTuned, kernelEnv } from '../env.ts';
import src from './rmsnorm.wgsl?raw';

export const rmsnormShader = defineShader(
  'rmsnorm',
  'rmsnorm.wgsl: FORWARD (else backward), SERIAL (a row per invocation) or a workgroup per row, WG, ACCUM, SUBGROUPS (WG = the subgroup size)',
  { FORWARD: true, SERIAL: true, WG: 4, ACCUM: false, SUBGROUPS: false },
  (d) => preprocess(src, d),
);

/** kernelEnv.rmsnorm.layout 'auto' picks by device: one row per invocation on CPU rasterizers (barriers are costly there), else a workgroup per row. */
function layout(ctx: GpuContext): { serial: boolean; wg: number; subgroups: boolean } {
  const l = kernelEnv.rmsnorm.layout === 'auto' ? (cpuTuned(ctx) ? 'serial' : 'workgroup') : kernelEnv.rmsnorm.layout;
  // Serial: few rows per workgroup so a CPU's cores all get some. Workgroup: 64 threads per row of ~1-8k.
  if (l === 'serial') return { serial: true, wg: 4, subgroups: false };
  // A workgroup of exactly one subgroup needs that size known: devices whose subgroups all have one size.
  const { subgroups: has, subgroupMinSize: min, subgroupMaxSize: max } = ctx.caps;
  const fits = has && min === max && min >= 4 && min <= ctx.caps.maxComputeInvocationsPerWorkgroup;
  const want = kernelEnv.rmsnorm.subgroups;
  if (want === true && !fits) throw new GpuError('unsupported', `subgroup RMSNorm needs subgroups of one size (device: ${has ? `${min}-${max}` : 'none'})`, 'rmsnorm');
  return fits && want !== false ? { serial: false, wg: min, subgroups: true } : { serial: false, wg: 64, subgroups: false };
}

function pipe(ctx: GpuContext, forward: boolean, accum: boolean) {
  const { serial, wg, subgroups } = layout(ctx);
  return { pipeline: ctx.compile(rmsnormShader, { FORWARD: forward, SERIAL: serial, WG: wg, ACCUM: accum, SUBGROUPS: subgroups }), serial, wg };
}

function grid(ctx: GpuContext, serial: boolean, wg: number, M: number): [number, number] {
  return serial ? grid1d(ctx, M, wg) : grid1d(ctx, M, 1);
}

/** y = x / sqrt(mean(x²) + eps) · w.  y, x: (M, C) f32; rstd: (M) f32, saved for backward; w: (C) f32. */
export function rmsnormForward(rec: Recorder, y: GPUBuffer, rstd: GPUBuffer, x: GPUBuffer, w: GPUBuffer, M: number, C: number, eps: number): void {
  const ctx = rec.ctx;
  const { pipeline, serial, wg } = pipe(ctx, true, false);
  rec.dispatch({
    kernel: 'rmsnorm_fwd', shapes: `M=${M} C=${C}`, pipeline,
    params: params([M, C, { f32: eps }]), buffers: [y, rstd, x, w], workgroups: grid(ctx, serial, wg, M),
  });
}

/**
 * dx = ∂(x·rstd·w)/∂x applied to dy: written, or added into dx when `accumulate` (the residual stream).
 * dx, dy, x: (M, C) f32; w: (C) f32; rstd: (M) f32 from forward. dx must not alias dy or x.
 */
export function rmsnormBackward(
  rec: Recorder, dx: GPUBuffer, dy: GPUBuffer, x: GPUBuffer, w: GPUBuffer, rstd: GPUBuffer, M: number, C: number, accumulate: boolean,
): void {
  const ctx = rec.ctx;
  const { pipeline, serial, wg } = pipe(ctx, false, accumulate);
  rec.dispatch({
    kernel: 'rmsnorm_bwd', shapes: `M=${M} C=${C}${accumulate ? ' accumulate' : ''}`, pipeline,
    params: params([M, C, { f32: 0 }]), buffers: [dx, dy, x, w, rstd], workgroups: grid(ctx, serial, wg, M),
  });
}
