// float64 reference for adamw.wgsl: torch.optim.AdamW's single-tensor update, one step, in place.
import type { AdamHyper } from './adamw.ts';

export function adamwStepRef(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, hp: AdamHyper, gradScale = 1): void {
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] * gradScale;
    param[i] *= 1 - hp.lr * hp.weightDecay;
    m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g;
    v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g * g;
    param[i] -= (hp.lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + hp.eps));
  }
}
