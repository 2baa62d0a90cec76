// RoPE's inverse frequencies on the host, as Hugging Face transformers computes them: pure maths, so the model
// loader, the float64 reference and the ONNX exporter use it without importing the WGSL kernel (kernels/rope).

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
