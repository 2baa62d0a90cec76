// One transformer layer, defined once and used twice: by training (transformer.ts: the whole batch, causal
// attention over it, forward and backward) and by decoding (generate/decoder.ts: attention over the KV cache,
// forward only). What differs between the two is only where attention's keys come from and where the buffers
// live, so the caller passes an `Attend` step and a `LayerBuffers` set; everything else (norms, projections with
// their bias and LoRA, RoPE, the MLP) is here. The float64 CPU model (reference.ts) and the ONNX exporter are
// written separately on purpose: they are independent checks of this file.
//
// Dimensions: M rows (tokens), C hidden, H/Hkv heads of D, F intermediate, R LoRA rank.
import type { Recorder } from '../gpu/recorder.ts';
import type { AttnShape } from '../kernels/attention/attention.ts';
import { loraBackward, loraForward, type LoraDropout } from '../kernels/lora/lora.ts';
import { matmulBackwardInput, matmulForward } from '../kernels/matmul/matmul.ts';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm/rmsnorm.ts';
import { ropeBackward, ropeForward } from '../kernels/rope/rope.ts';
import { embeddingForward } from '../kernels/embedding/embedding.ts';
import { gegluBackward, gegluForward } from '../kernels/geglu/geglu.ts';
import { scaleForward } from '../kernels/scale/scale.ts';
import { swigluBackward, swigluForward } from '../kernels/swiglu/swiglu.ts';
import type { ModelConfig, Projection } from './config.ts';
import type { Lora } from './lora.ts';
import type { BaseModel } from './model.ts';

/** A layer's activations for M rows. */
export interface LayerBuffers {
  xn: GPUBuffer; // (M, C) f32 input norm
  rstd1: GPUBuffer; // (M) f32
  q: GPUBuffer; // (M, H*D) f32, after RoPE
  k: GPUBuffer; // (M, Hkv*D) f32, after RoPE
  v: GPUBuffer; // (M, Hkv*D) f32
  att: GPUBuffer; // (M, H*D) f32 attention output
  /** (M, C) f32 residual after the attention block; the layer's input itself updates it in place (decoding). */
  x2: GPUBuffer;
  xn2: GPUBuffer; // (M, C) f32 MLP norm (may be xn: decoding keeps nothing)
  rstd2: GPUBuffer; // (M) f32 (may be rstd1)
  g: GPUBuffer; // (M, F) f32
  u: GPUBuffer; // (M, F) f32
  a: GPUBuffer; // (M, F) f32 MLP activation
  /** q/k norms (cfg.qkNorm): the projections' outputs before the norm, and the norms' rstd. */
  qRaw?: GPUBuffer; // (M, H*D) f32
  kRaw?: GPUBuffer; // (M, Hkv*D) f32
  rstdQ?: GPUBuffer; // (M*H) f32
  rstdK?: GPUBuffer; // (M*Hkv) f32
  /** Sandwich norms (cfg.sandwichNorms): attention and MLP outputs before their norms, and a normed scratch. */
  o?: GPUBuffer; // (M, C) f32
  rstdO?: GPUBuffer; // (M) f32
  m?: GPUBuffer; // (M, C) f32
  rstdM?: GPUBuffer; // (M) f32
  normed?: GPUBuffer; // (M, C) f32
}

/** The extra activation buffers cfg needs beyond Llama's, as (name, floats per row) pairs. */
export function extraLayerBuffers(c: Pick<ModelConfig, 'C' | 'H' | 'Hkv' | 'D' | 'qkNorm' | 'sandwichNorms'>): [keyof LayerBuffers, number][] {
  const out: [keyof LayerBuffers, number][] = [];
  if (c.qkNorm) out.push(['qRaw', c.H * c.D], ['kRaw', c.Hkv * c.D], ['rstdQ', c.H], ['rstdK', c.Hkv]);
  if (c.sandwichNorms) out.push(['o', c.C], ['rstdO', 1], ['m', c.C], ['rstdM', 1], ['normed', c.C]);
  return out;
}

/** Gradient scratch of a layer's backward (training only). */
export interface LayerGrads {
  dres: GPUBuffer; // (M, C) f32 dL/d(residual), in: after the layer, out: before it
  dxn: GPUBuffer; // (M, C) f32
  datt: GPUBuffer; // (M, H*D) f32
  dq: GPUBuffer; // (M, H*D) f32
  dk: GPUBuffer; // (M, Hkv*D) f32
  dv: GPUBuffer; // (M, Hkv*D) f32
  da: GPUBuffer; // (M, F) f32
  dg: GPUBuffer; // (M, F) f32
  du: GPUBuffer; // (M, F) f32
  loraDu: GPUBuffer; // (M, R) f32
  /** cfg.qkNorm: dL/d(k before its norm). (q's uses datt, free by then.) */
  dkRaw?: GPUBuffer; // (M, Hkv*D) f32
}

/** The attention step: training attends over the batch itself, decoding over the KV cache. */
export interface Attend {
  /** RoPE positions: the M rows are sequences of T rows, row t of each at position pos0 + t, or positions[row]. */
  T: number;
  pos0: number;
  positions?: GPUBuffer; // (M) u32
  /** bufs.att = attention(bufs.q, bufs.k, bufs.v) of layer l; q and k have had RoPE. */
  forward(rec: Recorder, l: number, bufs: LayerBuffers): void;
  /** grads.dq, dk, dv from grads.datt (training only). */
  backward?(rec: Recorder, l: number, bufs: LayerBuffers, grads: LayerGrads): void;
}

/** Everything one pass over the layers shares. */
export interface LayerPass {
  model: BaseModel;
  /** The adapter to apply, or null (the bare base model). */
  lora: Lora | null;
  M: number;
  bufs: LayerBuffers;
  attend: Attend;
  /** (M, R) f32 LoRA intermediate u = x·Aᵀ of projection p (one per projection when backward needs them). */
  loraU(p: Projection): GPUBuffer;
  /** LoRA dropout of (layer, projection), or undefined for none. */
  dropout?(l: number, p: Projection): LoraDropout | undefined;
  /** (M, C) f32 scratch a recompute (layerForward with out = null) may overwrite: training's grads.dxn. */
  loraScratch?: GPUBuffer;
}

/** y = x·Wᵀ (+bias) (+y when accumulate) (+ LoRA), for projection p of layer l over the pass's M rows. */
export function project(rec: Recorder, pass: LayerPass, l: number, p: Projection, y: GPUBuffer, x: GPUBuffer, accumulate: boolean): void {
  const lw = pass.model.layers[l];
  const bias = lw.bias?.[p as 'q_proj' | 'k_proj' | 'v_proj'];
  matmulForward(rec, y, x, lw.proj[p], pass.M, { bias, accumulate });
  const m = pass.lora?.modules[l][p];
  if (m) loraForward(rec, y, pass.loraU(p), x, m.A, m.B, pass.M, m.N, m.K, pass.lora!.R, pass.lora!.scale, pass.dropout?.(l, p));
}

/** dx (+)= dy·W, and the LoRA's gradients and its dx contribution, for projection p of layer l. */
function projectBackward(rec: Recorder, pass: LayerPass, g: LayerGrads, l: number, p: Projection, dx: GPUBuffer, dy: GPUBuffer, x: GPUBuffer, accumulateDx: boolean, accumulateGrads: boolean): void {
  matmulBackwardInput(rec, dx, dy, pass.model.layers[l].proj[p], pass.M, { accumulate: accumulateDx });
  const m = pass.lora?.modules[l][p];
  if (m) {
    loraBackward(rec, m.dA, m.dB, dx, dy, x, pass.loraU(p), m.A, m.B, g.loraDu, pass.M, m.N, m.K, pass.lora!.R, pass.lora!.scale, {
      accumulateGrads,
      dropout: pass.dropout?.(l, p),
    });
  }
}

/**
 * out = layer_l(x) over the pass's rows. out === x (with bufs.x2 === x) updates the residual in place.
 * out = null recomputes the activations backward needs, and skips the down projection's output.
 */
export function layerForward(rec: Recorder, pass: LayerPass, l: number, x: GPUBuffer, out: GPUBuffer | null): void {
  const c = pass.model.cfg;
  const { M, bufs: b, attend } = pass;
  const lw = pass.model.layers[l];
  const invFreq = lw.invFreq ?? pass.model.invFreq;
  const rowBytes = M * c.C * 4;
  // attention block: x2 = x + [postnorm](o(attend(rope([norm](q(xn))), rope([norm](k(xn))), v(xn))))
  rmsnormForward(rec, b.xn, b.rstd1, x, lw.attnNorm, M, c.C, c.eps); // (M, C)
  if (lw.qNorm && lw.kNorm) {
    project(rec, pass, l, 'q_proj', b.qRaw!, b.xn, false); // (M, H*D)
    project(rec, pass, l, 'k_proj', b.kRaw!, b.xn, false); // (M, Hkv*D)
    rmsnormForward(rec, b.q, b.rstdQ!, b.qRaw!, lw.qNorm, M * c.H, c.D, c.eps); // per head: (M*H, D)
    rmsnormForward(rec, b.k, b.rstdK!, b.kRaw!, lw.kNorm, M * c.Hkv, c.D, c.eps);
  } else {
    project(rec, pass, l, 'q_proj', b.q, b.xn, false); // (M, H*D)
    project(rec, pass, l, 'k_proj', b.k, b.xn, false); // (M, Hkv*D)
  }
  project(rec, pass, l, 'v_proj', b.v, b.xn, false); // (M, Hkv*D)
  const positions = attend.positions ?? null;
  ropeForward(rec, b.q, invFreq, M, attend.T, c.H, c.D, attend.pos0, positions);
  ropeForward(rec, b.k, invFreq, M, attend.T, c.Hkv, c.D, attend.pos0, positions);
  attend.forward(rec, l, b); // (M, H*D)
  if (b.x2 !== x) rec.copy(x, 0, b.x2, 0, rowBytes);
  if (lw.postAttnNorm) {
    project(rec, pass, l, 'o_proj', b.o!, b.att, false); // (M, C)
    rmsnormForward(rec, b.normed!, b.rstdO!, b.o!, lw.postAttnNorm, M, c.C, c.eps);
    scaleForward(rec, b.x2, b.normed!, 1, M * c.C, true);
  } else {
    project(rec, pass, l, 'o_proj', b.x2, b.att, true); // (M, C)
  }
  // MLP block: out = x2 + [postnorm](down(act(gate(xn2)) · up(xn2)))
  rmsnormForward(rec, b.xn2, b.rstd2, b.x2, lw.mlpNorm, M, c.C, c.eps);
  project(rec, pass, l, 'gate_proj', b.g, b.xn2, false); // (M, F)
  project(rec, pass, l, 'up_proj', b.u, b.xn2, false); // (M, F)
  if (c.act === 'gelu_tanh') gegluForward(rec, b.a, b.g, b.u, M * c.F);
  else swigluForward(rec, b.a, b.g, b.u, M * c.F); // (M, F)
  if (lw.postFfNorm) {
    // Backward needs the MLP output itself (for its norm), so a recompute computes it too.
    project(rec, pass, l, 'down_proj', b.m!, b.a, false); // (M, C)
    rmsnormForward(rec, b.normed!, b.rstdM!, b.m!, lw.postFfNorm, M, c.C, c.eps);
    if (out) {
      if (out !== b.x2) rec.copy(b.x2, 0, out, 0, rowBytes);
      scaleForward(rec, out, b.normed!, 1, M * c.C, true);
    }
    return;
  }
  if (out) {
    if (out !== b.x2) rec.copy(b.x2, 0, out, 0, rowBytes);
    project(rec, pass, l, 'down_proj', out, b.a, true); // (M, C)
    return;
  }
  const m = pass.lora?.modules[l].down_proj;
  if (m) {
    // Backward does not need the down projection's output, but its LoRA intermediate u = a·Aᵀ. The y-update
    // lands in the gradient scratch dxn, which backward overwrites before reading (never in a live buffer).
    const scratch = pass.loraScratch!;
    loraForward(rec, scratch, pass.loraU('down_proj'), b.a, m.A, m.B, M, m.N, m.K, pass.lora!.R, pass.lora!.scale, pass.dropout?.(l, 'down_proj'));
  }
}

/**
 * Given grads.dres = dL/d(layer output), leaves dL/d(layer input) in grads.dres and adds the layer's LoRA
 * gradients (accumulate: into those of earlier micro-batches). Needs layerForward(…, x, null), or this layer's own
 * forward (it leaves the same buffers), just before.
 */
export function layerBackward(rec: Recorder, pass: LayerPass, g: LayerGrads, l: number, x: GPUBuffer, accumulate: boolean): void {
  const c = pass.model.cfg;
  const { M, bufs: b, attend } = pass;
  const lw = pass.model.layers[l];
  const invFreq = lw.invFreq ?? pass.model.invFreq;
  if (!attend.backward) throw new Error('layerBackward: this attention step has no backward (decoding)');
  // MLP block (the residual passes dres through unchanged; the branch gets it through its post-norm if any)
  let dm = g.dres;
  if (lw.postFfNorm) {
    rmsnormBackward(rec, g.dxn, g.dres, b.m!, lw.postFfNorm, b.rstdM!, M, c.C, false); // dxn = dL/dm
    dm = g.dxn;
  }
  projectBackward(rec, pass, g, l, 'down_proj', g.da, dm, b.a, false, accumulate); // (M, F)
  if (c.act === 'gelu_tanh') gegluBackward(rec, g.dg, g.du, g.da, b.g, b.u, M * c.F);
  else swigluBackward(rec, g.dg, g.du, g.da, b.g, b.u, M * c.F);
  projectBackward(rec, pass, g, l, 'gate_proj', g.dxn, g.dg, b.xn2, false, accumulate); // (M, C)
  projectBackward(rec, pass, g, l, 'up_proj', g.dxn, g.du, b.xn2, true, accumulate);
  rmsnormBackward(rec, g.dres, g.dxn, b.x2, lw.mlpNorm, b.rstd2, M, c.C, true); // dres = dL/dx2
  // attention block
  let dO = g.dres;
  if (lw.postAttnNorm) {
    rmsnormBackward(rec, g.dxn, g.dres, b.o!, lw.postAttnNorm, b.rstdO!, M, c.C, false); // dxn = dL/do
    dO = g.dxn;
  }
  projectBackward(rec, pass, g, l, 'o_proj', g.datt, dO, b.att, false, accumulate); // (M, H*D)
  attend.backward(rec, l, b, g);
  const positions = attend.positions ?? null;
  ropeBackward(rec, g.dq, invFreq, M, attend.T, c.H, c.D, attend.pos0, positions);
  ropeBackward(rec, g.dk, invFreq, M, attend.T, c.Hkv, c.D, attend.pos0, positions);
  if (lw.qNorm && lw.kNorm) {
    // datt is free once attention's backward has read it.
    rmsnormBackward(rec, g.datt, g.dq, b.qRaw!, lw.qNorm, b.rstdQ!, M * c.H, c.D, false);
    rmsnormBackward(rec, g.dkRaw!, g.dk, b.kRaw!, lw.kNorm, b.rstdK!, M * c.Hkv, c.D, false);
    projectBackward(rec, pass, g, l, 'q_proj', g.dxn, g.datt, b.xn, false, accumulate);
    projectBackward(rec, pass, g, l, 'k_proj', g.dxn, g.dkRaw!, b.xn, true, accumulate);
  } else {
    projectBackward(rec, pass, g, l, 'q_proj', g.dxn, g.dq, b.xn, false, accumulate);
    projectBackward(rec, pass, g, l, 'k_proj', g.dxn, g.dk, b.xn, true, accumulate);
  }
  projectBackward(rec, pass, g, l, 'v_proj', g.dxn, g.dv, b.xn, true, accumulate);
  rmsnormBackward(rec, g.dres, g.dxn, x, lw.attnNorm, b.rstd1, M, c.C, true); // dres = dL/dx
}

/** Attention's shape for layer l: Gemma 3's sliding layers add their window. */
export function layerAttnShape(c: ModelConfig, l: number, s: AttnShape): AttnShape {
  return c.layerTypes?.[l] === 'sliding_attention' ? { ...s, window: c.slidingWindow } : s;
}

/** x = embed(ids) (× Gemma's √C) for M tokens; scratch (M, C) f32 holds the lookup when it is scaled. */
export function embedTokens(rec: Recorder, model: BaseModel, x: GPUBuffer, ids: GPUBuffer, M: number, scratch: GPUBuffer): void {
  const s = model.cfg.embedScale;
  if (s === undefined || s === 1) {
    embeddingForward(rec, x, ids, model.embed, M);
    return;
  }
  embeddingForward(rec, scratch, ids, model.embed, M);
  scaleForward(rec, x, scratch, s, M * model.cfg.C, false);
}
