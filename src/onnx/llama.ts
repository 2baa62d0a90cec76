// A Llama-family causal LM (Llama, Mistral, Qwen2) with an optional, unmerged LoRA, as an ONNX graph of
// plain opset-17 ops: an implementation of the forward pass that shares no code with the WGSL kernels, for
// checking them with onnxruntime, and a way to run a trained adapter with its base elsewhere.
//
// Graph: input_ids (B, T) int64 → logits (B, T, V) f32 and log_probs (B, T, V) f32. Rows are kept flat as
// (M = B·T, ·) through every row-wise op so each projection is one Gemm(x, W, transB=1) against the
// Hugging Face (out, in) layout: no transposed copies, and a tied lm_head reuses the embedding initializer.
// Attention is causal only; right padding is harmless (later positions never affect earlier ones), left
// padding is not supported.
import { ropeInvFreq } from '../kernels/rope/rope.ts';
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
  const inv = ropeInvFreq(cfg.D, cfg.ropeTheta, cfg.ropeScaling);
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

/** Builds the graph, reading the base one tensor at a time (the whole model ends up in memory as f32). */
export async function buildLlamaGraph(cfg: ModelConfig, reader: TensorReader, adapter?: LoraAdapter | null, opts: OnnxExportOptions = {}): Promise<GraphBuilder> {
  const { C, H, Hkv, D, V, L } = cfg;
  const w = new BaseWeights(reader, opts.baseQuant ?? 'none');
  const lora = adapter ? loraWeights(cfg, adapter) : null;
  const Tmax = opts.maxPositions ?? Math.min(cfg.maxPositions, 4096);
  const g = new GraphBuilder(cfg.architecture);

  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const Bdim = g.op1('Shape', [ids], { start: attr.int(0), end: attr.int(1) }, 'batch'); // [B]
  const Tdim = g.op1('Shape', [ids], { start: attr.int(1), end: attr.int(2) }, 'sequence'); // [T]

  // (T, D) RoPE rows for positions 0..T-1.
  const tables = ropeTables(cfg, Tmax);
  const zero = g.ints([0]);
  const cos = g.op1('Slice', [g.f32('rope.cos', [Tmax, D], tables.cos), zero, Tdim, zero], undefined, 'rope_cos');
  const sin = g.op1('Slice', [g.f32('rope.sin', [Tmax, D], tables.sin), zero, Tdim, zero], undefined, 'rope_sin');

  // (T, T) additive causal mask: −inf strictly above the diagonal, 0 on and below it.
  const TT = g.op1('Concat', [Tdim, Tdim], { axis: attr.int(0) });
  const full = g.op('ConstantOfShape', [TT], { attrs: { value: { tensor: { name: 'neg_inf', dataType: DataType.FLOAT, dims: [1], raw: new Uint8Array(Float32Array.of(-Infinity).buffer) } } } })[0];
  const mask = g.op1('Trilu', [full, g.ints([1])], { upper: attr.int(1) }, 'causal_mask');

  const shapeBTHD = (heads: number) => g.op1('Concat', [Bdim, Tdim, g.ints([heads, D])], { axis: attr.int(0) });
  const qShape = shapeBTHD(H);
  const kvShape = shapeBTHD(Hkv);

  const rmsnorm = (x: string, weight: Float32Array, name: string): string => {
    const ms = g.op1('ReduceMean', [g.op1('Mul', [x, x])], { axes: attr.ints([-1]), keepdims: attr.int(1) }, name);
    const rstd = g.op1('Reciprocal', [g.op1('Sqrt', [g.op1('Add', [ms, g.scalar(cfg.eps)])])]);
    return g.op1('Mul', [g.op1('Mul', [x, rstd]), g.f32(`${name}.weight`, [C], weight)], undefined, name);
  };

  // y = x·Wᵀ (+ b) + scale·(x·Aᵀ)·Bᵀ: the LoRA stays two separate products, as PEFT runs it unmerged.
  const project = async (x: string, l: number, p: Projection): Promise<string> => {
    const [N, K] = projectionShape(cfg, p);
    const name = `model.layers.${l}.${projectionModule(p)}.${p}`;
    const W = g.f32(`${name}.weight`, [N, K], await w.matrix(`${name}.weight`, N, K, 'linear'));
    const inputs = [x, W];
    if (cfg.qkvBias && (p === 'q_proj' || p === 'k_proj' || p === 'v_proj')) inputs.push(g.f32(`${name}.bias`, [N], await w.vector(`${name}.bias`, N)));
    let y = g.op1('Gemm', inputs, { transB: attr.int(1) }, name);
    const m = lora?.modules.get(`${l}.${p}`);
    if (m && lora) {
      const R = m.A.length / K;
      const u = g.op1('Gemm', [x, g.f32(`${name}.lora_A.weight`, [R, K], m.A)], { transB: attr.int(1) }, `${name}.lora_A`);
      const d = g.op1('Gemm', [u, g.f32(`${name}.lora_B.weight`, [N, R], m.B)], { transB: attr.int(1), alpha: attr.float(lora.scale) }, `${name}.lora_B`);
      y = g.op1('Add', [y, d]);
    }
    return y;
  };

  // (M, heads·D) → (B, heads, T, D), rotated: x·cos + rotate_half(x)·sin, rotate_half(x) = (−x₂, x₁).
  const heads = (x: string, shape: string, rope: boolean): string => {
    const t = g.op1('Transpose', [g.op1('Reshape', [x, shape])], { perm: attr.ints([0, 2, 1, 3]) });
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

  const embed = g.f32('model.embed_tokens.weight', [V, C], await w.matrix('model.embed_tokens.weight', V, C, 'embed'));
  let x = g.op1('Reshape', [g.op1('Gather', [embed, ids], { axis: attr.int(0) }, 'embed'), g.ints([-1, C])]); // (M, C)

  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const xn = rmsnorm(x, await w.vector(`${p}.input_layernorm.weight`, C), `${p}.input_layernorm`);
    const q = heads(await project(xn, l, 'q_proj'), qShape, true); // (B, H, T, D)
    const k = repeatKv(heads(await project(xn, l, 'k_proj'), kvShape, true));
    const v = repeatKv(heads(await project(xn, l, 'v_proj'), kvShape, false));
    const kT = g.op1('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) });
    const scores = g.op1('Add', [g.op1('Mul', [g.op1('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(D))]), mask], undefined, `${p}.scores`); // (B, H, T, T)
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
  const head = cfg.tieEmbeddings ? embed : g.f32('lm_head.weight', [V, C], await w.matrix('lm_head.weight', V, C, 'embed'));
  const flat = g.op1('Gemm', [hn, head], { transB: attr.int(1) }, 'lm_head'); // (M, V)
  const logits = g.op1('Reshape', [flat, g.op1('Concat', [Bdim, Tdim, g.ints([V])], { axis: attr.int(0) })]);
  g.output('logits', logits, DataType.FLOAT, ['batch', 'sequence', V]);
  g.output('log_probs', g.op1('LogSoftmax', [logits], { axis: attr.int(-1) }), DataType.FLOAT, ['batch', 'sequence', V]);
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
