// Autoregressive decoding on the GPU with a KV cache, through the same layer definition as training
// (model/layer.ts), with attention over the cache. The decoder owns "slots": slot i's keys and values live in rows
// [i*Tmax, i*Tmax + len[i]) of each layer's cache.
//
// Positions. Sequences of one batch have prompts of different lengths n_b. RoPE takes one pos0 for a whole
// dispatch, so every sequence is given "aligned" positions: with P = max n_b, prompt token j of sequence b sits at
// position P − n_b + j, and decode step s feeds every slot's token at position P + s. Attention scores under RoPE
// depend only on q_pos − k_pos, which is what each sequence alone would have (n_b + s − j), so this is
// left-padding's positional shift without left-padding's mask: the cache itself stays right-padded (slot b's rows
// start at 0) and attention's `lengths` mask hides the unused tail. Only the f32 rounding of the absolute angles
// differs from running the sequence alone (~1e-7 relative).
//
// Prefill. The prompts are laid out left-padded, (B, P) rows: row b*P + P − n_b + j holds token j of sequence b,
// so RoPE over the batch is one dispatch at pos0 = 0, and every row-wise op (norms, projections, SwiGLU) runs
// once over all B*P rows. Per layer and sequence, four copies move the rows attention needs into a right-padded
// layout (keys and values straight into the cache, queries into qR) and the output back.
//
// Dimensions: B prompts, P padded prompt length, S slots, Tmax cache rows per slot, C hidden, H/Hkv heads of D,
// F intermediate, V vocabulary, R LoRA rank.
import type { GpuContext } from '../gpu/context.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { attentionForward } from '../kernels/attention/attention.ts';
import { matmulForward } from '../kernels/matmul/matmul.ts';
import { rmsnormForward } from '../kernels/rmsnorm/rmsnorm.ts';
import type { ModelConfig } from '../model/config.ts';
import { embedTokens, extraLayerBuffers, layerAttnShape, layerForward, type Attend, type LayerBuffers, type LayerPass } from '../model/layer.ts';
import type { Lora } from '../model/lora.ts';
import type { BaseModel } from '../model/model.ts';

export interface DecoderCapacity {
  /** Sequences decoded at once (B × beams). */
  slots: number;
  /** Cache rows per slot: the longest prompt plus the new tokens. */
  maxLen: number;
  /** Rows of a prefill: prompts × padded prompt length. */
  prefillRows: number;
}

interface Buffers {
  ids: GPUBuffer; // (rows) u32
  lengths: GPUBuffer; // (max(S, B)) u32 valid keys per sequence
  x: GPUBuffer; // (rows, C) f32 residual stream
  xn: GPUBuffer; // (rows, C) f32
  rstd: GPUBuffer; // (rows) f32
  q: GPUBuffer; // (rows, H*D) f32
  k: GPUBuffer; // (rows, Hkv*D) f32
  v: GPUBuffer; // (rows, Hkv*D) f32
  qR: GPUBuffer; // (rows, H*D) f32 prefill queries, right-padded
  attR: GPUBuffer; // (rows, H*D) f32 prefill attention output, right-padded
  att: GPUBuffer; // (rows, H*D) f32
  lse: GPUBuffer; // (rows, H) f32
  g: GPUBuffer; // (rows, F) f32
  u: GPUBuffer; // (rows, F) f32
  a: GPUBuffer; // (rows, F) f32
  loraU: GPUBuffer; // (rows, R) f32 scratch, reused by every projection
  hLast: GPUBuffer; // (S, C) f32 last position's hidden state per slot
  hN: GPUBuffer; // (S, C) f32
  rstdF: GPUBuffer; // (S) f32
  logits: GPUBuffer; // (S, V) f32
  /** The layers' extra buffers of this family (extraLayerBuffers), (rows, ·) f32 each. */
  extra: Partial<LayerBuffers>;
}

export class Decoder {
  /** Apply the adapter (false: the bare base model). */
  useLora = true;
  private cap: DecoderCapacity | null = null;
  private b: Buffers | null = null;
  private kCache: GPUBuffer[] = []; // per layer (S*Tmax, Hkv*D) f32
  private vCache: GPUBuffer[] = []; // per layer (S*Tmax, Hkv*D) f32
  private spare: GPUBuffer | null = null; // (S*Tmax, Hkv*D) f32, the gather target of reorder()
  /** Cache rows of each slot. */
  private len = new Int32Array(0);
  /** Position of the next token fed (the same for every slot, see the header). */
  private pos = 0;
  private pendingParents: Int32Array | null = null;
  private cfg: ModelConfig;

  constructor(
    readonly ctx: GpuContext,
    readonly model: BaseModel,
    public lora: Lora | null,
  ) {
    this.cfg = model.cfg;
  }

  get capacity(): DecoderCapacity | null {
    return this.cap;
  }

  /** Cache rows of slot i (its prompt plus the tokens fed since). */
  slotLength(i: number): number {
    return this.len[i];
  }

  /** Allocates (or grows) the buffers; a no-op when the current ones are big enough. Drops the cache. */
  reserve(want: DecoderCapacity): void {
    const c = this.cap;
    if (c && c.slots >= want.slots && c.maxLen >= want.maxLen && c.prefillRows >= want.prefillRows) return;
    const next = c ? { slots: Math.max(c.slots, want.slots), maxLen: Math.max(c.maxLen, want.maxLen), prefillRows: Math.max(c.prefillRows, want.prefillRows) } : want;
    this.release();
    const { ctx, cfg } = this;
    const { C, H, Hkv, D, F, V } = cfg;
    const R = Math.max(1, this.lora?.R ?? 1);
    const rows = Math.max(next.prefillRows, next.slots);
    const S = next.slots;
    const f = (label: string, n: number) => ctx.buffer(`decode.${label}`, n * 4);
    this.b = {
      ids: f('ids', rows),
      lengths: f('lengths', rows),
      x: f('x', rows * C),
      xn: f('xn', rows * C),
      rstd: f('rstd', rows),
      q: f('q', rows * H * D),
      k: f('k', rows * Hkv * D),
      v: f('v', rows * Hkv * D),
      qR: f('qR', rows * H * D),
      attR: f('attR', rows * H * D),
      att: f('att', rows * H * D),
      lse: f('lse', rows * H),
      g: f('g', rows * F),
      u: f('u', rows * F),
      a: f('a', rows * F),
      loraU: f('loraU', rows * R),
      hLast: f('hLast', S * C),
      hN: f('hN', S * C),
      rstdF: f('rstdF', S),
      logits: f('logits', S * V),
      extra: Object.fromEntries(extraLayerBuffers(cfg).map(([name, perRow]) => [name, f(name, rows * perRow)])),
    };
    const cacheFloats = S * next.maxLen * Hkv * D;
    for (let l = 0; l < cfg.L; l++) {
      this.kCache.push(f(`k${l}`, cacheFloats));
      this.vCache.push(f(`v${l}`, cacheFloats));
    }
    this.spare = f('spare', cacheFloats);
    this.cap = next;
    this.len = new Int32Array(S);
  }

  release(): void {
    const { ctx } = this;
    if (this.b) {
      const { extra, ...rest } = this.b;
      for (const buf of [...Object.values(rest), ...Object.values(extra)]) ctx.release(buf as GPUBuffer);
    }
    for (const buf of [...this.kCache, ...this.vCache]) ctx.release(buf);
    ctx.release(this.spare);
    this.b = null;
    this.kCache = [];
    this.vCache = [];
    this.spare = null;
    this.cap = null;
    this.len = new Int32Array(0);
    this.pendingParents = null;
  }

  /** Bytes of the KV cache (both K and V, every layer, plus the reorder spare). */
  get cacheBytes(): number {
    return this.cap ? (2 * this.cfg.L + 1) * this.cap.slots * this.cap.maxLen * this.cfg.Hkv * this.cfg.D * 4 : 0;
  }

  /**
   * Runs the prompts into slots 0..B−1 (other slots are emptied) and returns the logits of each prompt's last
   * position, (B, V) f32. Positions are aligned to the longest prompt (see the header).
   */
  async prefill(prompts: number[][]): Promise<Float32Array> {
    const B = prompts.length;
    if (B === 0) throw new Error('prefill: no prompts');
    const n = prompts.map((p) => p.length);
    if (n.some((x) => x === 0)) throw new Error('prefill: an empty prompt has no position to predict from');
    const P = Math.max(...n);
    const cap = this.cap;
    if (!cap || cap.slots < B || cap.prefillRows < B * P || cap.maxLen < P) {
      throw new Error(`prefill: ${B} prompts of up to ${P} tokens exceed the reserved capacity ${JSON.stringify(cap)}`);
    }
    const { ctx, cfg, model } = this;
    const b = this.b!;
    const { C, H, Hkv, D } = cfg;
    const M = B * P;
    const ids = new Uint32Array(M); // left-padded; padding rows take id 0 (any valid id: their results are unused)
    prompts.forEach((p, i) => ids.set(p, i * P + P - p.length));
    ctx.write(b.ids, ids);
    ctx.write(b.lengths, Uint32Array.from(n));
    this.pendingParents = null;
    const rec = ctx.recorder();
    const ragged = n.some((x) => x !== P);
    embedTokens(rec, model, b.x, b.ids, M, b.xn); // (M, C)
    const kvRow = Hkv * D * 4;
    const qRow = H * D * 4;
    const pass = this.pass(M, {
      T: P,
      pos0: 0,
      forward: (r, l, lb) => {
        for (let i = 0; i < B; i++) {
          const from = i * P + P - n[i];
          const to = i * cap.maxLen;
          r.copy(lb.k, from * kvRow, this.kCache[l], to * kvRow, n[i] * kvRow);
          r.copy(lb.v, from * kvRow, this.vCache[l], to * kvRow, n[i] * kvRow);
          if (ragged) r.copy(lb.q, from * qRow, b.qR, i * P * qRow, n[i] * qRow);
        }
        const attOut = ragged ? b.attR : lb.att;
        attentionForward(r, attOut, b.lse, ragged ? b.qR : lb.q, this.kCache[l], this.vCache[l], b.lengths, layerAttnShape(cfg, l, { B, Tq: P, Tk: P, H, Hkv, D, kvStride: cap.maxLen }));
        if (ragged) for (let i = 0; i < B; i++) r.copy(b.attR, i * P * qRow, lb.att, (i * P + P - n[i]) * qRow, n[i] * qRow);
      },
    });
    for (let l = 0; l < cfg.L; l++) layerForward(rec, pass, l, b.x, b.x);
    // Left padding puts every prompt's last token in its row's last position.
    for (let i = 0; i < B; i++) rec.copy(b.x, (i * P + P - 1) * C * 4, b.hLast, i * C * 4, C * 4);
    this.head(rec, b.hLast, B);
    await rec.submit();
    this.len.fill(0);
    for (let i = 0; i < B; i++) this.len[i] = n[i];
    this.pos = P;
    return ctx.readF32(b.logits, B * cfg.V);
  }

  /**
   * Makes slot i a copy of slot parents[i] (beam search: children take their parent's cache). Recorded into the
   * next step; slots past parents.length are emptied.
   */
  reorder(parents: ArrayLike<number>): void {
    const S = this.cap?.slots ?? 0;
    if (parents.length > S) throw new Error(`reorder: ${parents.length} slots exceed the reserved ${S}`);
    for (let i = 0; i < parents.length; i++) {
      const p = parents[i];
      if (!(p >= 0 && p < S) || this.len[p] === 0) throw new Error(`reorder: slot ${i}'s parent ${p} holds no sequence`);
    }
    // Composing with a reorder not yet applied keeps the semantics "child of the current slots".
    const prev = this.pendingParents;
    this.pendingParents = Int32Array.from(parents, (p) => (prev ? prev[p] : p));
    // len is kept in the post-reorder frame, so parents index it directly.
    const len = Int32Array.from(parents, (p) => this.len[p]);
    this.len.fill(0);
    this.len.set(len);
  }

  /**
   * Feeds one token per slot (tokens.length slots, 0..n−1) at the next position; returns the logits of that
   * position, (n, V) f32.
   */
  async step(tokens: ArrayLike<number>): Promise<Float32Array> {
    const rec = this.ctx.recorder();
    this.recordStep(rec, tokens);
    await rec.submit();
    for (let i = 0; i < tokens.length; i++) this.len[i]++;
    this.pos++;
    return this.ctx.readF32(this.b!.logits, tokens.length * this.cfg.V);
  }

  /**
   * Records step()'s GPU work without submitting it or advancing the cache (benchmarks record it repeatedly:
   * each repetition rewrites the same cache row).
   */
  recordStep(rec: Recorder, tokens: ArrayLike<number>): void {
    const Sn = tokens.length;
    const cap = this.cap;
    if (!cap || Sn > cap.slots) throw new Error(`step: ${Sn} slots exceed the reserved capacity`);
    for (let i = 0; i < Sn; i++) {
      if (this.len[i] === 0) throw new Error(`step: slot ${i} holds no sequence (prefill or reorder first)`);
      if (this.len[i] >= cap.maxLen) throw new Error(`step: slot ${i} is full (${cap.maxLen} rows reserved)`);
    }
    const { ctx, cfg, model } = this;
    const b = this.b!;
    const { H, Hkv, D } = cfg;
    ctx.write(b.ids, Uint32Array.from(tokens));
    const lengths = new Uint32Array(Sn);
    for (let i = 0; i < Sn; i++) lengths[i] = this.len[i] + 1;
    ctx.write(b.lengths, lengths);
    const Tk = Math.max(...lengths);
    if (this.pendingParents) this.applyReorder(rec, this.pendingParents);
    this.pendingParents = null;
    embedTokens(rec, model, b.x, b.ids, Sn, b.xn); // (Sn, C)
    const kvRow = Hkv * D * 4;
    const pass = this.pass(Sn, {
      T: 1,
      pos0: this.pos,
      forward: (r, l, lb) => {
        for (let i = 0; i < Sn; i++) {
          const to = (i * cap.maxLen + this.len[i]) * kvRow;
          r.copy(lb.k, i * kvRow, this.kCache[l], to, kvRow);
          r.copy(lb.v, i * kvRow, this.vCache[l], to, kvRow);
        }
        // Tq = 1: the query sits at position Tk − 1, past every slot's keys; lengths hide each slot's unused rows.
        attentionForward(r, lb.att, b.lse, lb.q, this.kCache[l], this.vCache[l], b.lengths, layerAttnShape(cfg, l, { B: Sn, Tq: 1, Tk, H, Hkv, D, kvStride: cap.maxLen }));
      },
    });
    for (let l = 0; l < cfg.L; l++) layerForward(rec, pass, l, b.x, b.x);
    this.head(rec, b.x, Sn);
  }

  // ---- pieces ---------------------------------------------------------------------------------------------

  /** Gathers each layer's cache rows by parent through the spare buffer, which then takes the layer's place. */
  private applyReorder(rec: Recorder, parents: Int32Array): void {
    const cap = this.cap!;
    if (parents.every((p, i) => p === i)) return;
    const row = this.cfg.Hkv * this.cfg.D * 4;
    const slotBytes = cap.maxLen * row;
    const gather = (cache: GPUBuffer[], l: number) => {
      const dst = this.spare!;
      for (let i = 0; i < parents.length; i++) {
        if (this.len[i] > 0) rec.copy(cache[l], parents[i] * slotBytes, dst, i * slotBytes, this.len[i] * row);
      }
      this.spare = cache[l];
      cache[l] = dst;
    };
    for (let l = 0; l < this.cfg.L; l++) {
      gather(this.kCache, l);
      gather(this.vCache, l);
    }
  }

  /** The layers (model/layer.ts) over M rows, updating the residual b.x in place, with `attend` over the cache. */
  private pass(M: number, attend: Attend): LayerPass {
    const b = this.b!;
    return {
      model: this.model,
      lora: this.useLora ? this.lora : null,
      M,
      bufs: { xn: b.xn, rstd1: b.rstd, q: b.q, k: b.k, v: b.v, att: b.att, x2: b.x, xn2: b.xn, rstd2: b.rstd, g: b.g, u: b.u, a: b.a, ...b.extra },
      attend,
      loraU: () => b.loraU,
    };
  }

  /** logits (n, V) = norm(h)·lm_headᵀ for the first n rows of h. */
  private head(rec: Recorder, h: GPUBuffer, n: number): void {
    const b = this.b!;
    rmsnormForward(rec, b.hN, b.rstdF, h, this.model.finalNorm, n, this.cfg.C, this.cfg.eps);
    matmulForward(rec, b.logits, b.hN, this.model.lmHead, n);
  }
}
