// The Llama-family transformer for training, forward and backward: embedding, the layers (model/layer.ts, shared
// with decoding), the final norm and the fused output head. Backward recomputes a layer's activations from the
// residual stream saved at its input, so only (L+1) x (M, C) activations live across the pass; the last layer's are
// still in the layer buffers when backward follows its forward, and are not recomputed.
//
// Two layouts of a batch (model/batch.ts): 2B sequences, or B shared-prompt sequences whose rejected rows form a
// second branch (attention's branch mask, RoPE positions from a buffer); everything else is row-wise, so the
// layers do not know which.
//
// Dimensions: rowSeqs sequences of T tokens (M = rowSeqs*T rows), nSeq scored sequences, C hidden, H/Hkv heads of
// D, F intermediate, V vocabulary, R LoRA rank, S selected (completion) positions.
import type { GpuContext } from '../gpu/context.ts';
import { attentionBackward, attentionForward, type AttnShape } from '../kernels/attention/attention.ts';
import { outputHeadBackward, outputHeadForward } from '../kernels/head/head.ts';
import { segmentSum } from '../kernels/reduce/reduce.ts';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm/rmsnorm.ts';
import type { Projection } from './config.ts';
import type { SequenceBatch } from './batch.ts';
import type { Lora } from './lora.ts';
import { embedTokens, extraLayerBuffers, layerAttnShape, layerBackward, layerForward, type LayerBuffers, type LayerGrads, type LayerPass } from './layer.ts';
import type { BaseModel } from './model.ts';
import { unionDims, Workspace, type Dims } from './workspace.ts';

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
  /**
   * What backward may start from. 'none': the last forward ran without willBackward (no backward). 'live': the
   * layer buffers still hold that forward's last-layer activations, so backward recomputes only the layers below
   * (1/L of the recompute saved: on #18's 3-layer Llama, a third of its matmuls). 'recompute': a backward already
   * overwrote them, so another recomputes every layer.
   */
  private backwardFrom: 'none' | 'live' | 'recompute' = 'none';

  constructor(
    readonly ctx: GpuContext,
    readonly model: BaseModel,
    public lora: Lora | null,
  ) {}

  private workspace(batch: SequenceBatch, backward: boolean): Workspace {
    const d = batchDims(batch, this.lora?.R ?? 0);
    if (!this.ws || !this.ws.fits(d, backward)) {
      const old = this.ws;
      old?.release();
      const keep = old && old.dims.R === d.R;
      this.ws = new Workspace(this.ctx, this.model.cfg, keep ? unionDims(old.dims, d) : d, backward || (!!keep && old.backward));
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
    this.backwardFrom = 'none';
    ctx.write(b.ids, batch.ids);
    const sh = batch.shared;
    // The attention's lengths: (rowSeqs) u32, and in the shared-prompt layout promptLen and branchStart after them.
    ctx.write(b.lengths, sh ? Uint32Array.from([...batch.lengths, ...sh.promptLen, ...sh.branchStart]) : batch.lengths);
    if (sh) ctx.write(b.positions, sh.positions);
    ctx.write(b.rows, batch.rows);
    ctx.write(b.labels, batch.labels);
    ctx.write(b.offsets, batch.offsets);
    const rec = ctx.recorder();
    embedTokens(rec, model, ws.acts[0], b.ids, batch.M, b.xn);
    const pass = this.pass();
    for (let l = 0; l < c.L; l++) layerForward(rec, pass, l, ws.acts[l], ws.acts[l + 1]);
    rmsnormForward(rec, b.hN, b.rstdF, ws.acts[c.L], model.finalNorm, batch.M, c.C, c.eps);
    // Training leaves ∂logp/∂h in headDir (twice the head's forward flops; the backward then only scales it).
    outputHeadForward(rec, b.logp, b.lseHead, b.logitSum, b.hN, b.rows, b.labels, model.lmHead, batch.S, willBackward ? b.headDir : undefined);
    segmentSum(rec, b.seqSums, b.seqMeans, b.logp, b.offsets, batch.nSeq);
    segmentSum(rec, b.seqLogitSums, b.seqLogitMeans, b.logitSum, b.offsets, batch.nSeq);
    await rec.submit();
    // Nothing after the layers writes their buffers (the final norm, the head and the sums have buffers of their own).
    this.backwardFrom = willBackward ? 'live' : 'none';
    const [sums, logits] = await Promise.all([ctx.readF32(b.seqSums, batch.nSeq), ctx.readF32(b.seqLogitSums, batch.nSeq)]);
    return { seqLogp: Float64Array.from(sums), seqLogitSum: Float64Array.from(logits) };
  }

  /**
   * Backpropagates d(loss)/d(token log p), given per sequence (every completion token of a sequence gets the
   * same coefficient), into the LoRA gradients. accumulate: add into the existing gradients (micro-batches).
   */
  async backward(dSeq: Float64Array, accumulate: boolean): Promise<void> {
    const { ctx, model, batch, ws, lora } = this;
    // The last forward's batch, options and head gradient (headDir) are what backward reads: a forward without
    // willBackward (a reference or eval pass) after the training one would leave them another batch's.
    if (!batch || !ws || !ws.backward || this.backwardFrom === 'none') throw new Error('backward() needs a forward(…, willBackward=true) last');
    if (!lora) throw new Error('backward() needs a LoRA to train');
    // Pipelines still being created ahead (engine/precompile.ts creates the backward's while the forward runs)
    // would otherwise be created a second time here, on this thread.
    await ctx.compiled();
    const c = model.cfg;
    const b = ws.b;
    const dlogp = new Float32Array(batch.S);
    for (let s = 0; s < batch.nSeq; s++) dlogp.fill(dSeq[s], batch.offsets[s], batch.offsets[s + 1]);
    ctx.write(b.dlogp, dlogp);
    const rec = ctx.recorder();
    rec.clear(b.dhN, 0, batch.M * c.C * 4);
    outputHeadBackward(rec, b.dhN, b.dlogp, b.rows, b.headDir, batch.S, c.C);
    rmsnormBackward(rec, b.dres, b.dhN, ws.acts[c.L], model.finalNorm, b.rstdF, batch.M, c.C, false);
    const pass = this.pass();
    const grads = this.grads();
    const live = this.backwardFrom === 'live';
    this.backwardFrom = 'recompute'; // the lower layers' recomputes overwrite the last layer's activations
    for (let l = c.L - 1; l >= 0; l--) {
      if (!(live && l === c.L - 1)) layerForward(rec, pass, l, ws.acts[l], null);
      layerBackward(rec, pass, grads, l, ws.acts[l], accumulate);
    }
    await rec.submit();
  }

  // ---- the layers (model/layer.ts), with causal attention over the batch ---------------------------------

  private pass(): LayerPass {
    const ws = this.ws!;
    const b = ws.b;
    const opts = this.opts!;
    const { rowSeqs, T, M, shared } = this.batch!;
    const c = this.model.cfg;
    const shape: AttnShape = { B: rowSeqs, Tq: T, Tk: T, H: c.H, Hkv: c.Hkv, D: c.D, branch: !!shared };
    const prob = this.lora?.cfg.dropout ?? 0;
    const seed = opts.dropoutSeed;
    return {
      model: this.model,
      lora: opts.useLora ? this.lora : null,
      M,
      bufs: this.layerBuffers(),
      attend: {
        T,
        pos0: 0,
        positions: shared ? b.positions : undefined,
        forward: (rec, l, lb) => attentionForward(rec, lb.att, b.lse, lb.q, lb.k, lb.v, b.lengths, layerAttnShape(c, l, shape)),
        backward: (rec, l, lb, g) => attentionBackward(rec, g.dq, g.dk, g.dv, g.datt, lb.q, lb.k, lb.v, lb.att, b.lse, b.lengths, layerAttnShape(c, l, shape), b.attnDs ?? null),
      },
      loraU: (p) => ws.loraU.get(p)!,
      dropout: prob && seed !== null ? (l, p) => ({ p: prob, seed: dropoutSeed(seed, l, p) }) : undefined,
      loraScratch: b.dxn,
    };
  }

  private layerBuffers(): LayerBuffers {
    const b = this.ws!.b;
    const bufs: LayerBuffers = { xn: b.xn, rstd1: b.rstd1, q: b.q, k: b.k, v: b.v, att: b.att, x2: b.x2, xn2: b.xn2, rstd2: b.rstd2, g: b.g, u: b.u, a: b.a };
    for (const [name] of extraLayerBuffers(this.model.cfg)) bufs[name] = b[name];
    return bufs;
  }

  private grads(): LayerGrads {
    const b = this.ws!.b;
    return { dres: b.dres, dxn: b.dxn, datt: b.datt, dq: b.dq, dk: b.dk, dv: b.dv, da: b.da, dg: b.dg, du: b.du, loraDu: b.loraDu, dkRaw: b.dkRaw };
  }
}

/** The workspace dims a batch needs. */
export function batchDims(batch: SequenceBatch, R: number): Dims {
  return { M: batch.M, nSeq: batch.rowSeqs, T: batch.T, S: batch.S, R, segs: batch.nSeq, shared: !!batch.shared };
}

const PROJ_INDEX: Record<Projection, number> = { q_proj: 0, k_proj: 1, v_proj: 2, o_proj: 3, gate_proj: 4, up_proj: 5, down_proj: 6 };

/** A distinct, reproducible dropout stream per (micro-batch, layer, projection): recompute sees the same mask. */
export function dropoutSeed(seed: number, layer: number, p: Projection): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + layer * 7919 + PROJ_INDEX[p] * 104729) >>> 0;
}
