// y = alpha·x (or y += alpha·x) over N elements. Linear, so its backward is itself (dx = alpha·dy).
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './scale.wgsl?raw';

function pipe(ctx: GpuContext, accumulate: boolean) {
  return ctx.pipeline(`scale accum=${+accumulate}`, () => preprocess(src, { ACCUM: accumulate }));
}

/** y (+)= alpha · x.  y, x: (N) f32, not aliased. */
export function scaleForward(rec: Recorder, y: GPUBuffer, x: GPUBuffer, alpha: number, n: number, accumulate: boolean): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: 'scale', shapes: `N=${n} alpha=${alpha} accumulate=${accumulate}`, pipeline: pipe(ctx, accumulate),
    params: params([n, { f32: alpha }]), buffers: [y, x], workgroups: grid1d(ctx, n, 256),
  });
}
