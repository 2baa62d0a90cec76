// The dispatches of the gated MLP activations (swiglu/, geglu/): one elementwise shader per activation with a
// FORWARD define, 256 threads over N = (B*T)*F elements. Only their WGSL (the activation and its derivative) differs.
import type { Recorder } from '../gpu/recorder.ts';
import type { Shader } from '../gpu/wgsl.ts';
import { grid1d, params } from './dispatch.ts';

/** y = act(g) * u.  y, g, u: (N) f32. `shader.name` names the dispatch (`<name>_fwd`). */
export function gatedForward(rec: Recorder, shader: Shader<{ FORWARD: boolean }>, y: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: `${shader.name}_fwd`, shapes: `N=${n}`, pipeline: ctx.compile(shader, { FORWARD: true }),
    params: params([n]), buffers: [y, g, u], workgroups: grid1d(ctx, n, 256),
  });
}

/** dg, du (overwritten) from dy and the forward inputs g, u. All (N) f32. */
export function gatedBackward(rec: Recorder, shader: Shader<{ FORWARD: boolean }>, dg: GPUBuffer, du: GPUBuffer, dy: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  const ctx = rec.ctx;
  rec.dispatch({
    kernel: `${shader.name}_bwd`, shapes: `N=${n}`, pipeline: ctx.compile(shader, { FORWARD: false }),
    params: params([n]), buffers: [dg, du, dy, g, u], workgroups: grid1d(ctx, n, 256),
  });
}
