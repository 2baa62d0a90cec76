// A Llama-family causal LM (Llama, Mistral, Qwen2) with an optional, unmerged LoRA, as an ONNX graph of
// plain opset-17 ops: an implementation of the forward pass that shares no code with the WGSL kernels, for
// checking them with onnxruntime, and a way to run a trained adapter with its base elsewhere.
//
// Graph: input_ids (B, T) int64 → logits (B, T, V) f32 and log_probs (B, T, V) f32. Rows are kept flat as
// (M = B·T, ·) through every row-wise op so each projection is one Gemm(x, W, transB=1) against the
// Hugging Face (out, in) layout: no transposed copies, and a tied lm_head reuses the embedding initializer.
// Attention is causal only; right padding is harmless (later positions never affect earlier ones), left
// padding is not supported.
import { ropeInvFreq } from '../util/rope-freqs.ts';
import { loraScale, type LoraAdapter } from '../io/peft.ts';
import { projectionModule, projectionShape, type ModelConfig, type Projection } from '../model/config.ts';
import type { Quant, TensorReader } from '../model/model.ts';
import { GraphBuilder, attr } from './graph.ts';
import { DataType } from './proto.ts';
import { BaseWeights } from './weights.ts';

export interface OnnxExportOptions {
  /** Pass the base weights through the engine's storage format for this --quant (default 'none': as read). */
  baseQuant?: Quant;
  /** Positions the RoPE tables cover: the longest input the model accepts (default min(config, 4096)). */
  maxPositions?: number;
  /** Free text and key/value metadata stored in the model file. */
  docString?: string;
  metadata?: Record<string, string>;
  /**
   * The decoder layout of Optimum / transformers.js (`text-generation`): inputs input_ids, attention_mask
   * (batch, past + sequence), position_ids and past_key_values.N.key / .value (batch, Hkv, past, D); outputs
   * logits and present.N.key / .value. Left padding and incremental decoding work; no log_probs output.
   */
  kvCache?: boolean;
  /** Fold the adapter into the weights (W + scale·B·A, in f64) instead of running it as two extra products. */
  mergeAdapter?: boolean;
  /**
   * Store every matrix as int8 with one f32 scale per row (symmetric, max|row|/127), dequantized by
   * DequantizeLinear: the file is ~4x smaller (transformers.js' `q8` dtype picks it as model_quantized.onnx).
   */
  int8Weights?: boolean;
}

/** protobuf messages cannot exceed 2 GiB; larger bases would need ONNX external data, which this does not write. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

interface LoraWeights {
  scale: number;
  modules: Map<string, { A: Float32Array; B: Float32Array }>; // key `${layer}.${proj}`
}

function loraWeights(cfg: ModelConfig, adapter: LoraAdapter): LoraWeights {
  const R = adapter.settings.r;
  const modules = new Map<string, { A: Float32Array; B: Float32Array }>();
  for (const p of adapter.pairs) {
    const [N, K] = projectionShape(cfg, p.module);
    if (p.layer < 0 || p.layer >= cfg.L) throw new Error(`adapter: layer ${p.layer} does not exist (model has ${cfg.L})`);
    if (p.A.length !== R * K || p.B.length !== N * R) {
      throw new Error(`adapter: layer ${p.layer} ${p.module}: A has ${p.A.length} values, B ${p.B.length}; expected ${R}x${K} and ${N}x${R}`);
    }
    modules.set(`${p.layer}.${p.module}`, { A: p.A, B: p.B });
  }
  return { scale: loraScale(adapter.settings), modules };
}

/** (Tmax, D) cos and sin of position·inv_freq, each half repeated as HF's cat((freqs, freqs)) lays them out. */
function ropeTables(cfg: ModelConfig, Tmax: number): { cos: Float32Array; sin: Float32Array } {
  // inv_freq is f32 in HF (and survives .double() as those f32 values); the angle and cos/sin are taken in f64.
  let inv = ropeInvFreq(cfg.D, cfg.ropeTheta, cfg.ropeScaling);
  // 'linear' scaling divides positions by the factor: inv_freq / factor, in f32 as transformers and model.ts do
  const linear = cfg.ropeLinearFactor;
  if (linear) inv = inv.map((x) => Math.fround(x / Math.fround(linear)));
  const half = cfg.D / 2;
  const cos = new Float32Array(Tmax * cfg.D);
  const sin = new Float32Array(Tmax * cfg.D);
  for (let t = 0; t < Tmax; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * inv[i];
      cos[t * cfg.D + i] = cos[t * cfg.D + half + i] = Math.cos(a);
      sin[t * cfg.D + i] = sin[t * cfg.D + half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** W + scale·B·A as a new array: W (N, K), A (R, K), B (N, R) row-major; each element's sum in f64. */
function mergeLora(base: Float32Array, A: Float32Array, B: Float32Array, N: number, K: number, scale: number): Float32Array {
  const W = Float32Array.from(base);
  const R = A.length / K;
  const row = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    row.fill(0);
    for (let r = 0; r < R; r++) {
      const b = B[n * R + r];
      for (let k = 0; k < K; k++) row[k] += b * A[r * K + k];
    }
    for (let k = 0; k < K; k++) W[n * K + k] += scale * row[k];
  }
  return W;
}

/** Symmetric per-row int8: q = round(w / s), s = max|row| / 127 (1 for an all-zero row). */
export function quantizeRowsInt8(W: Float32Array, N: number, K: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(N * K);
  const scale = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(W[n * K + k]));
    const s = (scale[n] = m > 0 ? m / 127 : 1);
    for (let k = 0; k < K; k++) q[n * K + k] = Math.max(-127, Math.min(127, Math.round(W[n * K + k] / s)));
  }
  return { q, scale };
}

/** FLT_MAX: the additive mask of the cached layout (finite, so a fully padded row softmaxes to uniform, not NaN). */
const MASKED = 3.4028234663852886e38;

/** The architectures this graph computes exactly; others (Gemma 3's norms, GeGLU and sliding layers) are refused. */
export const ONNX_ARCHITECTURES: readonly string[] = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM'];

/** Builds the graph, reading the base one tensor at a time (the whole model ends up in memory as f32). */
export async function buildLlamaGraph(cfg: ModelConfig, reader: TensorReader, adapter?: LoraAdapter | null, opts: OnnxExportOptions = {}): Promise<GraphBuilder> {
  if (!ONNX_ARCHITECTURES.includes(cfg.architecture)) {
    throw new Error(`ONNX export: ${cfg.architecture} is not supported yet (supported: ${ONNX_ARCHITECTURES.join(', ')})`);
  }
  // Layer features beyond Llama's (config.ts) that this graph does not build: refused rather than left out.
  const beyond: string[] = (['normPlusOne', 'sandwichNorms', 'embedScale', 'queryPreAttnScalar', 'layerTypes', 'slidingWindow', 'ropeLocal'] as const).filter((k) => cfg[k] !== undefined && cfg[k] !== false);
  if (cfg.act !== undefined && cfg.act !== 'silu') beyond.push(`act ${cfg.act}`);
  if (beyond.length) throw new Error(`ONNX export: ${cfg.architecture} with ${beyond.join(', ')} is not supported yet`);
  const { C, H, Hkv, D, V, L } = cfg;
  const w = new BaseWeights(reader, opts.baseQuant ?? 'none');
  const lora = adapter ? loraWeights(cfg, adapter) : null;
  const Tmax = opts.maxPositions ?? Math.min(cfg.maxPositions, 4096);
  const g = new GraphBuilder(cfg.architecture);
  const cache = opts.kvCache === true;
  const [batch, seq] = cache ? ['batch_size', 'sequence_length'] : ['batch', 'sequence'];

  const ids = g.input('input_ids', DataType.INT64, [batch, seq]);
  const Bdim = g.op1('Shape', [ids], { start: attr.int(0), end: attr.int(1) }, 'batch'); // [B]
  const Tdim = g.op1('Shape', [ids], { start: attr.int(1), end: attr.int(2) }, 'sequence'); // [T]
  const fill = (shape: string, v: number, name: string) =>
    g.op('ConstantOfShape', [shape], { attrs: { value: { tensor: { name, dataType: DataType.FLOAT, dims: [1], raw: new Uint8Array(Float32Array.of(v).buffer) } } } })[0];

  const tables = ropeTables(cfg, Tmax);
  const cosTable = g.f32('rope.cos', [Tmax, D], tables.cos);
  const sinTable = g.f32('rope.sin', [Tmax, D], tables.sin);
  let cos: string; // (T, D), or (B, 1, T, D) at position_ids
  let sin: string;
  let mask: string; // additive: (T, T), or (B, 1, T, P + T)
  const past: string[][] = [];
  if (cache) {
    const am = g.input('attention_mask', DataType.INT64, [batch, 'total_sequence_length']);
    const pos = g.input('position_ids', DataType.INT64, [batch, seq]);
    for (let l = 0; l < L; l++) {
      past.push(['key', 'value'].map((kv) => g.input(`past_key_values.${l}.${kv}`, DataType.FLOAT, [batch, Hkv, 'past_sequence_length', D])));
    }
    const at = (table: string, name: string) => g.op1('Unsqueeze', [g.op1('Gather', [table, pos], { axis: attr.int(0) }), g.ints([1])], undefined, name);
    cos = at(cosTable, 'rope_cos');
    sin = at(sinTable, 'rope_sin');
    // Query i (absolute position P + i) sees key j when j <= P + i and attention_mask[b, j] is 1.
    const Ttot = g.op1('Shape', [am], { start: attr.int(1), end: attr.int(2) }, 'total_sequence'); // [P + T]
    const P = g.op1('Sub', [Ttot, Tdim], undefined, 'past_sequence');
    const causal = g.op1('Trilu', [fill(g.op1('Concat', [Tdim, Ttot], { axis: attr.int(0) }), 1, 'one'), P], { upper: attr.int(0) }, 'causal'); // (T, P+T) 1/0
    const keep = g.op1('Unsqueeze', [g.op1('Cast', [am], { to: attr.int(DataType.FLOAT) }), g.ints([1, 2])]); // (B, 1, 1, P+T)
    mask = g.op1('Mul', [g.op1('Sub', [g.op1('Mul', [causal, keep]), g.scalar(1)]), g.scalar(MASKED)], undefined, 'attention_bias');
  } else {
    // (T, D) RoPE rows for positions 0..T-1.
    const zero = g.ints([0]);
    cos = g.op1('Slice', [cosTable, zero, Tdim, zero], undefined, 'rope_cos');
    sin = g.op1('Slice', [sinTable, zero, Tdim, zero], undefined, 'rope_sin');
    // (T, T) additive causal mask: −inf strictly above the diagonal, 0 on and below it.
    const full = fill(g.op1('Concat', [Tdim, Tdim], { axis: attr.int(0) }), -Infinity, 'neg_inf');
    mask = g.op1('Trilu', [full, g.ints([1])], { upper: attr.int(1) }, 'causal_mask');
  }

  // A (rows, K) weight as a graph value: an f32 initializer, or int8 + per-row scales through DequantizeLinear.
  const matrix = (name: string, rows: number, K: number, data: Float32Array): string => {
    if (!opts.int8Weights) return g.f32(name, [rows, K], data);
    const { q, scale } = quantizeRowsInt8(data, rows, K);
    const zp = g.i8(`${name}.zero_point`, [rows], new Int8Array(rows));
    return g.op1('DequantizeLinear', [g.i8(`${name}.int8`, [rows, K], q), g.f32(`${name}.scale`, [rows], scale), zp], { axis: attr.int(0) }, name);
  };

  const shapeBTHD = (heads: number) => g.op1('Concat', [Bdim, Tdim, g.ints([heads, D])], { axis: attr.int(0) });
  const qShape = shapeBTHD(H);
  const kvShape = shapeBTHD(Hkv);

  // over the last axis: C for the hidden state, D for Qwen3's per-head q_norm / k_norm
  const rmsnorm = (x: string, weight: Float32Array, name: string): string => {
    const ms = g.op1('ReduceMean', [g.op1('Mul', [x, x])], { axes: attr.ints([-1]), keepdims: attr.int(1) }, name);
    const rstd = g.op1('Reciprocal', [g.op1('Sqrt', [g.op1('Add', [ms, g.scalar(cfg.eps)])])]);
    return g.op1('Mul', [g.op1('Mul', [x, rstd]), g.f32(`${name}.weight`, [weight.length], weight)], undefined, name);
  };

  // y = x·Wᵀ (+ b) + scale·(x·Aᵀ)·Bᵀ: the LoRA stays two separate products, as PEFT runs it unmerged.
  const project = async (x: string, l: number, p: Projection): Promise<string> => {
    const [N, K] = projectionShape(cfg, p);
    const name = `model.layers.${l}.${projectionModule(p)}.${p}`;
    const m = lora?.modules.get(`${l}.${p}`);
    let data = await w.matrix(`${name}.weight`, N, K, 'linear');
    if (m && lora && opts.mergeAdapter) data = mergeLora(data, m.A, m.B, N, K, lora.scale);
    const inputs = [x, matrix(`${name}.weight`, N, K, data)];
    if (cfg.qkvBias && (p === 'q_proj' || p === 'k_proj' || p === 'v_proj')) inputs.push(g.f32(`${name}.bias`, [N], await w.vector(`${name}.bias`, N)));
    let y = g.op1('Gemm', inputs, { transB: attr.int(1) }, name);
    if (m && lora && !opts.mergeAdapter) {
      const R = m.A.length / K;
      const u = g.op1('Gemm', [x, g.f32(`${name}.lora_A.weight`, [R, K], m.A)], { transB: attr.int(1) }, `${name}.lora_A`);
      const d = g.op1('Gemm', [u, g.f32(`${name}.lora_B.weight`, [N, R], m.B)], { transB: attr.int(1), alpha: attr.float(lora.scale) }, `${name}.lora_B`);
      y = g.op1('Add', [y, d]);
    }
    return y;
  };

  // (M, heads·D) → (B, heads, T, D), Qwen3's per-head RMSNorm first when given, then rotated:
  // x·cos + rotate_half(x)·sin, rotate_half(x) = (−x₂, x₁).
  const heads = (x: string, shape: string, rope: boolean, norm?: { weight: Float32Array; name: string }): string => {
    let r = g.op1('Reshape', [x, shape]); // (B, T, heads, D)
    if (norm) r = rmsnorm(r, norm.weight, norm.name);
    const t = g.op1('Transpose', [r], { perm: attr.ints([0, 2, 1, 3]) });
    if (!rope) return t;
    const x1 = g.op1('Slice', [t, g.ints([0]), g.ints([D / 2]), g.ints([3])]);
    const x2 = g.op1('Slice', [t, g.ints([D / 2]), g.ints([D]), g.ints([3])]);
    const rot = g.op1('Concat', [g.op1('Neg', [x2]), x1], { axis: attr.int(3) });
    return g.op1('Add', [g.op1('Mul', [t, cos]), g.op1('Mul', [rot, sin])], undefined, 'rope');
  };

  // (B, Hkv, T, D) → (B, H, T, D): each key/value head serves H/Hkv consecutive query heads (HF repeat_kv).
  const repeatKv = (x: string): string => {
    if (H === Hkv) return x;
    const e = g.op1('Expand', [g.op1('Unsqueeze', [x, g.ints([2])]), g.ints([1, 1, H / Hkv, 1, 1])], undefined, 'repeat_kv');
    return g.op1('Reshape', [e, g.ints([0, H, -1, D])]);
  };

  const embed = matrix('model.embed_tokens.weight', V, C, await w.matrix('model.embed_tokens.weight', V, C, 'embed'));
  let x = g.op1('Reshape', [g.op1('Gather', [embed, ids], { axis: attr.int(0) }, 'embed'), g.ints([-1, C])]); // (M, C)

  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const xn = rmsnorm(x, await w.vector(`${p}.input_layernorm.weight`, C), `${p}.input_layernorm`);
    const qkNorm = async (which: 'q_norm' | 'k_norm') => (cfg.qkNorm ? { weight: await w.vector(`${p}.self_attn.${which}.weight`, D), name: `${p}.self_attn.${which}` } : undefined);
    const q = heads(await project(xn, l, 'q_proj'), qShape, true, await qkNorm('q_norm')); // (B, H, T, D)
    let kNew = heads(await project(xn, l, 'k_proj'), kvShape, true, await qkNorm('k_norm')); // (B, Hkv, T, D)
    let vNew = heads(await project(xn, l, 'v_proj'), kvShape, false);
    if (cache) {
      // (B, Hkv, P + T, D): the cache grows by this call's keys and values
      kNew = g.op1('Concat', [past[l][0], kNew], { axis: attr.int(2) }, `${p}.present_key`);
      vNew = g.op1('Concat', [past[l][1], vNew], { axis: attr.int(2) }, `${p}.present_value`);
      g.output(`present.${l}.key`, kNew, DataType.FLOAT, [batch, Hkv, 'total_sequence_length', D]);
      g.output(`present.${l}.value`, vNew, DataType.FLOAT, [batch, Hkv, 'total_sequence_length', D]);
    }
    const k = repeatKv(kNew);
    const v = repeatKv(vNew);
    const kT = g.op1('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) });
    const scores = g.op1('Add', [g.op1('Mul', [g.op1('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(D))]), mask], undefined, `${p}.scores`); // (B, H, T, P + T)
    const att = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: attr.int(-1) }), v]); // (B, H, T, D)
    const merged = g.op1('Reshape', [g.op1('Transpose', [att], { perm: attr.ints([0, 2, 1, 3]) }), g.ints([-1, H * D])]); // (M, H·D)
    const x2 = g.op1('Add', [x, await project(merged, l, 'o_proj')], undefined, `${p}.residual1`);
    const xn2 = rmsnorm(x2, await w.vector(`${p}.post_attention_layernorm.weight`, C), `${p}.post_attention_layernorm`);
    const gate = await project(xn2, l, 'gate_proj');
    const up = await project(xn2, l, 'up_proj');
    const a = g.op1('Mul', [g.op1('Mul', [gate, g.op1('Sigmoid', [gate])]), up], undefined, `${p}.swiglu`); // (M, F)
    x = g.op1('Add', [x2, await project(a, l, 'down_proj')], undefined, `${p}.residual2`);
  }

  const hn = rmsnorm(x, await w.vector('model.norm.weight', C), 'model.norm');
  const head = cfg.tieEmbeddings ? embed : matrix('lm_head.weight', V, C, await w.matrix('lm_head.weight', V, C, 'embed'));
  const flat = g.op1('Gemm', [hn, head], { transB: attr.int(1) }, 'lm_head'); // (M, V)
  const logits = g.op1('Reshape', [flat, g.op1('Concat', [Bdim, Tdim, g.ints([V])], { axis: attr.int(0) })]);
  g.output('logits', logits, DataType.FLOAT, [batch, seq, V]);
  if (!cache) g.output('log_probs', g.op1('LogSoftmax', [logits], { axis: attr.int(-1) }), DataType.FLOAT, [batch, seq, V]);
  return g;
}

/**
 * The base (and adapter, unmerged) as an ONNX file for onnxruntime and other runtimes:
 * input_ids (B, T) int64 → logits, log_probs (B, T, V) f32.
 */
export async function exportOnnx(cfg: ModelConfig, reader: TensorReader, adapter?: LoraAdapter | null, opts: OnnxExportOptions = {}): Promise<Uint8Array> {
  const g = await buildLlamaGraph(cfg, reader, adapter, opts);
  let bytes = 0;
  for (const t of g.initializers) bytes += t.raw.length;
  if (bytes > PROTOBUF_LIMIT) {
    throw new Error(`ONNX export: the weights take ${(bytes / 2 ** 30).toFixed(2)} GiB as f32, over protobuf's 2 GiB limit for one file`);
  }
  const metadata: Record<string, string> = { architecture: cfg.architecture, base_quant: opts.baseQuant ?? 'none', ...opts.metadata };
  if (adapter) {
    const s = adapter.settings;
    Object.assign(metadata, { lora_r: String(s.r), lora_alpha: String(s.alpha), lora_use_rslora: String(s.useRslora), lora_targets: s.targetModules.join(',') });
  }
  return g.serialize({ producerName: 'cpo-studio', docString: opts.docString, metadata });
}
