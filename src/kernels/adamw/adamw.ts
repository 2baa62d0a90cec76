// AdamW (torch.optim.AdamW semantics: decoupled weight decay, bias correction) in place on f32 LoRA parameters.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './adamw.wgsl?raw';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, after incrementing for this step (torch's state['step']). */
  step: number;
}

export const adamwShader = defineShader('adamw', 'adamw.wgsl: SCALED (gradients times a clip scale)', { SCALED: false }, (d) => preprocess(src, d));

function pipe(ctx: GpuContext, SCALED: boolean) {
  return ctx.compile(adamwShader, { SCALED });
}

/** One AdamW step over n parameters; the gradient is multiplied by gradScale[0] first when given. */
export function adamwStep(
  rec: Recorder,
  param: GPUBuffer, // (n) f32, updated in place
  grad: GPUBuffer, // (n) f32
  m: GPUBuffer, // (n) f32 first moment, updated in place
  v: GPUBuffer, // (n) f32 second moment, updated in place
  n: number,
  hp: AdamHyper,
  gradScale: GPUBuffer | null, // (1) f32
): void {
  if (!(hp.step >= 1) || !Number.isInteger(hp.step)) throw new Error(`adamw: step must be a positive integer, got ${hp.step}`);
  const ctx = rec.ctx;
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  rec.dispatch({
    kernel: 'adamw', shapes: `n=${n} step=${hp.step}`, pipeline: pipe(ctx, !!gradScale),
    params: params([
      n,
      { f32: 1 - hp.lr * hp.weightDecay },
      { f32: 1 - hp.beta1 },
      { f32: hp.beta2 },
      { f32: 1 - hp.beta2 },
      { f32: hp.lr / bc1 },
      { f32: Math.sqrt(bc2) },
      { f32: hp.eps },
    ]),
    buffers: gradScale ? [param, m, v, grad, gradScale] : [param, m, v, grad],
    workgroups: grid1d(ctx, n, 256),
  });
}
