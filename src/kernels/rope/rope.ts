// Rotary position embedding (HF Llama/Qwen2 "rotate_half"), applied in place to q or k rows, and its transpose.
// D head dim; nTok rows of nHeads*D; row i is at position pos0 + (i mod T).
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './rope.wgsl?raw';

export interface RopeScaling {
  rope_type: 'llama3';
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

const f = Math.fround;

/**
 * inv_freq (D/2) as HF transformers computes it (_compute_default_rope_parameters, _compute_llama3_parameters):
 * those are float32 tensor ops, so each step here is done in float64 and rounded to f32 where torch rounds
 * (+ − × ÷ are then bit-exact; pow may differ from torch's powf in the last bit at worst).
 */
export function ropeInvFreq(D: number, theta: number, scaling?: RopeScaling | null): Float32Array {
  if (D % 2 !== 0) throw new Error(`rope: head dim ${D} must be even`);
  const half = D / 2;
  const inv = new Float32Array(half);
  const base = f(theta);
  // 1.0 / (base ** (arange(0, dim, 2).float() / dim))
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(Math.pow(base, f((2 * i) / D))));
  if (!scaling) return inv;
  if (scaling.rope_type !== 'llama3') throw new Error(`rope: rope_type ${String(scaling.rope_type)} is not supported`);
  const { factor, low_freq_factor: lf, high_freq_factor: hf, original_max_position_embeddings: old } = scaling;
  // Python scalars meet f32 tensors: the scalar is rounded to f32 first, the result is f32.
  const lowWavelen = f(old / lf);
  const highWavelen = f(old / hf);
  const twoPi = f(2 * Math.PI);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const wavelen = f(twoPi / inv[i]);
    let v = wavelen > lowWavelen ? f(inv[i] / f(factor)) : inv[i];
    const smooth = f(f(f(f(old) / wavelen) - f(lf)) / f(hf - lf));
    const smoothed = f(f(f(f(1 - smooth) * v) / f(factor)) + f(smooth * v));
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (medium) v = smoothed;
    out[i] = v;
  }
  return out;
}

export const ropeShader = defineShader('rope', 'rope.wgsl: FORWARD (else backward)', { FORWARD: true }, (d) => preprocess(src, d));

function pipe(ctx: GpuContext, FORWARD: boolean) {
  return ctx.compile(ropeShader, { FORWARD });
}

function rope(rec: Recorder, forward: boolean, x: GPUBuffer, invFreq: GPUBuffer, nTok: number, T: number, nHeads: number, D: number, pos0: number) {
  if (D % 2 !== 0) throw new Error(`rope: head dim ${D} must be even`);
  const ctx = rec.ctx;
  const n = nTok * nHeads * (D / 2);
  rec.dispatch({
    kernel: forward ? 'rope_fwd' : 'rope_bwd', shapes: `nTok=${nTok} T=${T} H=${nHeads} D=${D} pos0=${pos0}`, pipeline: pipe(ctx, forward),
    params: params([n, T, nHeads, D / 2, pos0]), buffers: [x, invFreq], workgroups: grid1d(ctx, n, 256),
  });
}

/** x (nTok, nHeads*D) f32 rotated in place; invFreq (D/2) f32 from ropeInvFreq. Row i is at position pos0 + (i mod T). */
export function ropeForward(rec: Recorder, x: GPUBuffer, invFreq: GPUBuffer, nTok: number, T: number, nHeads: number, D: number, pos0 = 0): void {
  rope(rec, true, x, invFreq, nTok, T, nHeads, D, pos0);
}

/** The transpose of ropeForward (rotation by −angle), in place on dx (nTok, nHeads*D) f32. */
export function ropeBackward(rec: Recorder, dx: GPUBuffer, invFreq: GPUBuffer, nTok: number, T: number, nHeads: number, D: number, pos0 = 0): void {
  rope(rec, false, dx, invFreq, nTok, T, nHeads, D, pos0);
}
