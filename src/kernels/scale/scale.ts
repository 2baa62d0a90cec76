// y = alpha·x (or y += alpha·x) over N elements. Linear, so its backward is itself (dx = alpha·dy).
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './scale.wgsl?raw';

export const scaleShader = defineShader('scale', 'scale.wgsl: ACCUM (y += alpha·x, else y = alpha·x)', { ACCUM: false }, (d) => preprocess(src, d));

function pipe(ctx: GpuContext, ACCUM: boolean) {
  return ctx.compile(scaleShader, { ACCUM });
}

/** y (+)= alpha · x.  y, x: (N) f32, not aliased. */
export function scaleForward(rec: Recorder, y: GPUBuffer, x: GPUBuffer, alpha: number, n: number, accumulate: boolean): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: 'scale', shapes: `N=${n} alpha=${alpha} accumulate=${accumulate}`, pipeline: pipe(ctx, accumulate),
    params: params([n, { f32: alpha }]), buffers: [y, x], workgroups: grid1d(ctx, n, 256),
  });
}
