// GeGLU (gelu-tanh gated MLP, Gemma) forward and backward over N = (B*T)*F elements.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './geglu.wgsl?raw';

export const gegluShader = defineShader('geglu', 'geglu.wgsl: FORWARD (else backward)', { FORWARD: true }, (d) => preprocess(src, d));

function pipe(ctx: GpuContext, FORWARD: boolean) {
  return ctx.compile(gegluShader, { FORWARD });
}

/** y = gelu_tanh(g) * u.  y, g, u: (N) f32 */
export function gegluForward(rec: Recorder, y: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: 'geglu_fwd', shapes: `N=${n}`, pipeline: pipe(ctx, true),
    params: params([n]), buffers: [y, g, u], workgroups: grid1d(ctx, n, 256),
  });
}

/** dg, du (overwritten) from dy and the forward inputs g, u. All (N) f32. */
export function gegluBackward(rec: Recorder, dg: GPUBuffer, du: GPUBuffer, dy: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: 'geglu_bwd', shapes: `N=${n}`, pipeline: pipe(ctx, false),
    params: params([n]), buffers: [dg, du, dy, g, u], workgroups: grid1d(ctx, n, 256),
  });
}
