// GeGLU (gelu-tanh gated MLP, Gemma) forward and backward over N = (B*T)*F elements (dispatches in ../gated.ts).
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { gatedBackward, gatedForward } from '../gated.ts';
import src from './geglu.wgsl?raw';

export const gegluShader = defineShader('geglu', 'geglu.wgsl: FORWARD (else backward)', { FORWARD: true }, (d) => preprocess(src, d));

/** y = gelu_tanh(g) * u.  y, g, u: (N) f32 */
export function gegluForward(rec: Recorder, y: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  gatedForward(rec, gegluShader, y, g, u, n);
}

/** dg, du (overwritten) from dy and the forward inputs g, u. All (N) f32. */
export function gegluBackward(rec: Recorder, dg: GPUBuffer, du: GPUBuffer, dy: GPUBuffer, g: GPUBuffer, u: GPUBuffer, n: number): void {
  gatedBackward(rec, gegluShader, dg, du, dy, g, u, n);
}
