// The Llama-family transformer, forward and backward, assembled from the kernels.
// Each layer's forward and backward sit side by side; backward recomputes a layer's activations from the
// residual stream saved at its input, so only (L+1) x (M, C) activations live across the pass.
//
// Dimensions: nSeq sequences of T tokens (M = nSeq*T rows), C hidden, H/Hkv heads of D, F intermediate,
// V vocabulary, R LoRA rank, S selected (completion) positions.
import type { GpuContext } from '../gpu/context.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { attentionBackward, attentionForward, type AttnShape } from '../kernels/attention/attention.ts';
import { embeddingForward } from '../kernels/embedding/embedding.ts';
import { outputHeadBackward, outputHeadForward } from '../kernels/head/head.ts';
import { loraBackward, loraForward, type LoraDropout } from '../kernels/lora/lora.ts';
import { matmulBackwardInput, matmulForward } from '../kernels/matmul/matmul.ts';
import { segmentSum } from '../kernels/reduce/reduce.ts';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm/rmsnorm.ts';
import { ropeBackward, ropeForward } from '../kernels/rope/rope.ts';
import { swigluBackward, swigluForward } from '../kernels/swiglu/swiglu.ts';
import type { Projection } from './config.ts';
import type { SequenceBatch } from './batch.ts';
import type { Lora } from './lora.ts';
import type { BaseModel, LayerWeights } from './model.ts';
import { Workspace, type Dims } from './workspace.ts';

export interface PassOptions {
  /** Use the adapter (false: the bare base model, e.g. DPO's reference). */
  useLora: boolean;
  /** LoRA dropout seed for this micro-batch; dropout is off when the LoRA's p is 0 or this is null. */
  dropoutSeed: number | null;
}

export interface ForwardResult {
  /** (nSeq) Σ log p over each sequence's completion tokens. */
  seqLogp: Float64Array;
  /** (nSeq) Σ over completion positions of Σ_v raw logits (for TRL's logits/chosen metric). */
  seqLogitSum: Float64Array;
}

export class Transformer {
  private ws: Workspace | null = null;
  private batch: SequenceBatch | null = null;
  private opts: PassOptions | null = null;

  constructor(
    readonly ctx: GpuContext,
    readonly model: BaseModel,
    public lora: Lora | null,
  ) {}

  private workspace(batch: SequenceBatch, backward: boolean): Workspace {
    const d: Dims = { M: batch.M, nSeq: batch.nSeq, T: batch.T, S: batch.S, R: this.lora?.R ?? 0 };
    if (!this.ws || !this.ws.fits(d, backward)) {
      this.ws?.release();
      this.ws = new Workspace(this.ctx, this.model.cfg, d, backward);
    }
    return this.ws;
  }

  release(): void {
    this.ws?.release();
    this.ws = null;
  }

  /** The residual stream entering each layer (the last: after layer L-1), (M, C) f32 each, from the last forward; for naming where a non-finite value appeared. */
  async residuals(): Promise<Float32Array[]> {
    const { ws, batch } = this;
    if (!ws || !batch) return [];
    return Promise.all(ws.acts.map((a) => this.ctx.readF32(a, batch.M * this.model.cfg.C)));
  }

  /** Runs the batch forward; keeps what backward needs. */
  async forward(batch: SequenceBatch, opts: PassOptions, willBackward: boolean): Promise<ForwardResult> {
    const { ctx, model } = this;
    const c = model.cfg;
    const ws = this.workspace(batch, willBackward);
    const b = ws.b;
    this.batch = batch;
    this.opts = opts;
    ctx.write(b.ids, batch.ids);
    ctx.write(b.lengths, batch.lengths);
    ctx.write(b.rows, batch.rows);
    ctx.write(b.labels, batch.labels);
    ctx.write(b.offsets, batch.offsets);
    const rec = ctx.recorder();
    embeddingForward(rec, ws.acts[0], b.ids, model.embed, batch.M);
    for (let l = 0; l < c.L; l++) this.layerForward(rec, l, ws.acts[l], ws.acts[l + 1]);
    rmsnormForward(rec, b.hN, b.rstdF, ws.acts[c.L], model.finalNorm, batch.M, c.C, c.eps);
    outputHeadForward(rec, b.logp, b.lseHead, b.logitSum, b.hN, b.rows, b.labels, model.lmHead, batch.S);
    segmentSum(rec, b.seqSums, b.seqMeans, b.logp, b.offsets, batch.nSeq);
    segmentSum(rec, b.seqLogitSums, b.seqLogitMeans, b.logitSum, b.offsets, batch.nSeq);
    await rec.submit();
    const [sums, logits] = await Promise.all([ctx.readF32(b.seqSums, batch.nSeq), ctx.readF32(b.seqLogitSums, batch.nSeq)]);
    return { seqLogp: Float64Array.from(sums), seqLogitSum: Float64Array.from(logits) };
  }

  /**
   * Backpropagates d(loss)/d(token log p), given per sequence (every completion token of a sequence gets the
   * same coefficient), into the LoRA gradients. accumulate: add into the existing gradients (micro-batches).
   */
  async backward(dSeq: Float64Array, accumulate: boolean): Promise<void> {
    const { ctx, model, batch, ws, lora } = this;
    if (!batch || !ws || !ws.backward) throw new Error('backward() needs a forward(…, willBackward=true) first');
    if (!lora) throw new Error('backward() needs a LoRA to train');
    const c = model.cfg;
    const b = ws.b;
    const dlogp = new Float32Array(batch.S);
    for (let s = 0; s < batch.nSeq; s++) dlogp.fill(dSeq[s], batch.offsets[s], batch.offsets[s + 1]);
    ctx.write(b.dlogp, dlogp);
    const rec = ctx.recorder();
    rec.clear(b.dhN, 0, batch.M * c.C * 4);
    outputHeadBackward(rec, b.dhN, b.dlogp, b.hN, b.rows, b.labels, b.lseHead, model.lmHead, batch.S);
    rmsnormBackward(rec, b.dres, b.dhN, ws.acts[c.L], model.finalNorm, b.rstdF, batch.M, c.C, false);
    for (let l = c.L - 1; l >= 0; l--) {
      this.layerForward(rec, l, ws.acts[l], null);
      this.layerBackward(rec, l, ws.acts[l], accumulate);
    }
    await rec.submit();
  }

  // ---- one layer ------------------------------------------------------------------------------------------

  private dropout(l: number, p: Projection): LoraDropout | undefined {
    const prob = this.lora?.cfg.dropout ?? 0;
    const seed = this.opts?.dropoutSeed;
    if (!prob || seed === null || seed === undefined) return undefined;
    return { p: prob, seed: dropoutSeed(seed, l, p) };
  }

  /** y = x·Wᵀ (+bias) (+y) (+ LoRA), for projection p of layer l. */
  private project(rec: Recorder, l: number, p: Projection, y: GPUBuffer, x: GPUBuffer, accumulate: boolean): void {
    const w = this.model.layers[l].proj[p];
    const bias = this.model.layers[l].bias?.[p as 'q_proj' | 'k_proj' | 'v_proj'];
    const M = this.batch!.M;
    matmulForward(rec, y, x, w, M, { bias, accumulate });
    const m = this.opts!.useLora ? this.lora?.modules[l][p] : undefined;
    if (m) loraForward(rec, y, this.ws!.loraU.get(p)!, x, m.A, m.B, M, m.N, m.K, this.lora!.R, this.lora!.scale, this.dropout(l, p));
  }

  /** dx (+)= dy·W, and the LoRA's gradients and its dx contribution, for projection p of layer l. */
  private projectBackward(rec: Recorder, l: number, p: Projection, dx: GPUBuffer, dy: GPUBuffer, x: GPUBuffer, accumulateDx: boolean, accumulateGrads: boolean): void {
    const M = this.batch!.M;
    matmulBackwardInput(rec, dx, dy, this.model.layers[l].proj[p], M, { accumulate: accumulateDx });
    const m = this.lora?.modules[l][p];
    if (m && this.opts!.useLora) {
      const ws = this.ws!;
      loraBackward(rec, m.dA, m.dB, dx, dy, x, ws.loraU.get(p)!, m.A, m.B, ws.b.loraDu, M, m.N, m.K, this.lora!.R, this.lora!.scale, {
        accumulateGrads,
        dropout: this.dropout(l, p),
      });
    }
  }

  private attnShape(): AttnShape {
    const c = this.model.cfg;
    const { nSeq, T } = this.batch!;
    return { B: nSeq, Tq: T, Tk: T, H: c.H, Hkv: c.Hkv, D: c.D };
  }

  /** x_{l+1} = layer_l(x_l). out = null recomputes the activations only (for backward). */
  private layerForward(rec: Recorder, l: number, x: GPUBuffer, out: GPUBuffer | null): void {
    const c = this.model.cfg;
    const { M, T } = this.batch!;
    const b = this.ws!.b;
    const lw: LayerWeights = this.model.layers[l];
    // attention block
    rmsnormForward(rec, b.xn, b.rstd1, x, lw.attnNorm, M, c.C, c.eps); // (M, C)
    this.project(rec, l, 'q_proj', b.q, b.xn, false); // (M, H*D)
    this.project(rec, l, 'k_proj', b.k, b.xn, false); // (M, Hkv*D)
    this.project(rec, l, 'v_proj', b.v, b.xn, false); // (M, Hkv*D)
    ropeForward(rec, b.q, this.model.invFreq, M, T, c.H, c.D);
    ropeForward(rec, b.k, this.model.invFreq, M, T, c.Hkv, c.D);
    attentionForward(rec, b.att, b.lse, b.q, b.k, b.v, b.lengths, this.attnShape()); // (M, H*D)
    rec.copy(x, 0, b.x2, 0, M * c.C * 4);
    this.project(rec, l, 'o_proj', b.x2, b.att, true); // x2 = x + attn (M, C)
    // MLP block
    rmsnormForward(rec, b.xn2, b.rstd2, b.x2, lw.mlpNorm, M, c.C, c.eps);
    this.project(rec, l, 'gate_proj', b.g, b.xn2, false); // (M, F)
    this.project(rec, l, 'up_proj', b.u, b.xn2, false); // (M, F)
    swigluForward(rec, b.a, b.g, b.u, M * c.F); // (M, F)
    if (out) {
      rec.copy(b.x2, 0, out, 0, M * c.C * 4);
      this.project(rec, l, 'down_proj', out, b.a, true); // x_{l+1} = x2 + mlp (M, C)
    } else if (this.lora?.modules[l].down_proj && this.opts!.useLora) {
      // The down projection's output is not needed in backward, but its LoRA intermediate u = a·Aᵀ is.
      const m = this.lora.modules[l].down_proj!;
      // Its y-update lands in dxn, scratch that backward overwrites before reading.
      loraForward(rec, b.dxn, this.ws!.loraU.get('down_proj')!, b.a, m.A, m.B, M, m.N, m.K, this.lora.R, this.lora.scale, this.dropout(l, 'down_proj'));
    }
  }

  /** Given b.dres = dL/dx_{l+1}, leaves dL/dx_l in b.dres and adds the layer's LoRA gradients. */
  private layerBackward(rec: Recorder, l: number, x: GPUBuffer, accumulate: boolean): void {
    const c = this.model.cfg;
    const { M, T } = this.batch!;
    const b = this.ws!.b;
    const lw = this.model.layers[l];
    // MLP block: x_{l+1} = x2 + down(swiglu(gate(xn2), up(xn2)))
    this.projectBackward(rec, l, 'down_proj', b.da, b.dres, b.a, false, accumulate); // (M, F)
    swigluBackward(rec, b.dg, b.du, b.da, b.g, b.u, M * c.F);
    this.projectBackward(rec, l, 'gate_proj', b.dxn, b.dg, b.xn2, false, accumulate); // (M, C)
    this.projectBackward(rec, l, 'up_proj', b.dxn, b.du, b.xn2, true, accumulate);
    rmsnormBackward(rec, b.dres, b.dxn, b.x2, lw.mlpNorm, b.rstd2, M, c.C, true); // dres = dL/dx2
    // attention block: x2 = x + o(attn(rope(q(xn)), rope(k(xn)), v(xn)))
    this.projectBackward(rec, l, 'o_proj', b.datt, b.dres, b.att, false, accumulate); // (M, H*D)
    attentionBackward(rec, b.dq, b.dk, b.dv, b.datt, b.q, b.k, b.v, b.att, b.lse, b.lengths, this.attnShape(), b.attnDs ?? null);
    ropeBackward(rec, b.dq, this.model.invFreq, M, T, c.H, c.D);
    ropeBackward(rec, b.dk, this.model.invFreq, M, T, c.Hkv, c.D);
    this.projectBackward(rec, l, 'q_proj', b.dxn, b.dq, b.xn, false, accumulate);
    this.projectBackward(rec, l, 'k_proj', b.dxn, b.dk, b.xn, true, accumulate);
    this.projectBackward(rec, l, 'v_proj', b.dxn, b.dv, b.xn, true, accumulate);
    rmsnormBackward(rec, b.dres, b.dxn, x, lw.attnNorm, b.rstd1, M, c.C, true); // dres = dL/dx_l
  }
}

const PROJ_INDEX: Record<Projection, number> = { q_proj: 0, k_proj: 1, v_proj: 2, o_proj: 3, gate_proj: 4, up_proj: 5, down_proj: 6 };

/** A distinct, reproducible dropout stream per (micro-batch, layer, projection): recompute sees the same mask. */
export function dropoutSeed(seed: number, layer: number, p: Projection): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + layer * 7919 + PROJ_INDEX[p] * 104729) >>> 0;
}
