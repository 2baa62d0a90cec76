// SwiGLU forward and backward over N = (B*T)*F elements (dispatches in ../gated.ts).
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { gatedBackward, gatedForward } from '../gated.ts';
import src from './swiglu.wgsl?raw';

export const swigluShader = defineShader('swiglu', 'swiglu.wgsl: FORWARD (else backward)', { FORWARD: true }, (d) => preprocess(src, d));

/** y = silu(g) * u.  y, g, u: (N) f32 */
export function swigluForward(rec: Recorder, y: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  gatedForward(rec, swigluShader, y, g, u, n);
}

/** dg, du (overwritten) from dy and the forward inputs g, u. All (N) f32. */
export function swigluBackward(rec: Recorder, dg: GPUBuffer, du: GPUBuffer, dy: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  gatedBackward(rec, swigluShader, dg, du, dy, g, u, n);
}
