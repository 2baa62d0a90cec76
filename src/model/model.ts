// The base model on the GPU: every linear weight stays in its ggml type (Q4_0, Q8_0, F16 or F32) and is
// dequantized inside the kernels; norms and biases are f32. Weights are read one tensor at a time from a
// TensorReader (safetensors, sharded safetensors or GGUF), so host memory stays near one tensor.
import type { GpuContext } from '../gpu/context.ts';
import { bf16BitsToF32, decodeWeight, f16BitsToF32, roundF16, type WeightType } from '../kernels/quant/formats.ts';
import type { PipelineSpec } from '../kernels/plan.ts';
import { quantizeShader, quantizeToWeight, type SourceType } from '../kernels/quant/quantize.ts';
import { releaseWeight, uploadWeight, type WeightTensor } from '../kernels/quant/tensor.ts';
import { ropeInvFreq } from '../kernels/rope/rope.ts';
import { PROJECTIONS, projectionModule, projectionShape, type ModelConfig, type Projection } from './config.ts';

import type { Quant } from './projections.ts';

export type { Quant };

/** --quant applies to the linear projections; embeddings and the output head follow it as the CLI contract says. */
export function weightTypes(q: Quant): { linear: WeightType; embed: WeightType } {
  switch (q) {
    case 'none':
      return { linear: 'f32', embed: 'f32' };
    case 'f16':
      return { linear: 'f16', embed: 'f16' };
    case 'q8_0':
      return { linear: 'q8_0', embed: 'q8_0' };
    case 'q4_0':
      return { linear: 'q4_0', embed: 'q8_0' };
  }
}

export type HostDtype = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0';

export interface HostTensor {
  dtype: HostDtype;
  shape: number[];
  data: Uint8Array;
}

/** Where weights come from: named as Hugging Face names them (model.layers.0.self_attn.q_proj.weight). */
export interface TensorReader {
  /** The file (or files) the tensors come from, for error messages. */
  source: string;
  has(name: string): boolean;
  /** The dtype read(name) gives, from the file's header alone (null: not there, or a type read() refuses). */
  dtype(name: string): HostDtype | null;
  read(name: string): Promise<HostTensor>;
}

export interface LayerWeights {
  attnNorm: GPUBuffer; // (C) f32
  mlpNorm: GPUBuffer; // (C) f32 (Gemma 3: pre_feedforward_layernorm)
  proj: Record<Projection, WeightTensor>;
  /** Qwen2: (H*D), (Hkv*D), (Hkv*D) f32 */
  bias: { q_proj: GPUBuffer; k_proj: GPUBuffer; v_proj: GPUBuffer } | null;
  /** Qwen3, Gemma 3: per-head norms of q and k, (D) f32; q's carries Gemma's query_pre_attn_scalar (see load). */
  qNorm?: GPUBuffer;
  kNorm?: GPUBuffer;
  /** Gemma 3: norms of the attention and MLP outputs before the residual adds, (C) f32. */
  postAttnNorm?: GPUBuffer;
  postFfNorm?: GPUBuffer;
  /** (D/2) f32 RoPE frequencies of this layer when they are not the model's (Gemma 3's sliding layers). */
  invFreq?: GPUBuffer;
}

export interface BaseModel {
  cfg: ModelConfig;
  quant: Quant;
  embed: WeightTensor; // (V, C)
  layers: LayerWeights[];
  finalNorm: GPUBuffer; // (C) f32
  lmHead: WeightTensor; // (V, C), the embedding itself when tied and of the same type
  invFreq: GPUBuffer; // (D/2) f32
  /** Bytes the base occupies on the GPU. */
  bytes: number;
}

/** A host tensor's values as f32, whatever its stored dtype (quantized ones as the kernels dequantize them). */
export function hostToF32(t: HostTensor, name: string): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(dv.getUint16(i * 2, true));
      return out;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(dv.getUint16(i * 2, true));
      return out;
    case 'Q8_0':
    case 'Q4_0': {
      const [rows, K] = t.shape;
      return Float32Array.from(decodeWeight(t.dtype === 'Q8_0' ? 'q8_0' : 'q4_0', t.data, rows, K));
    }
    default:
      throw new Error(`${name}: unsupported dtype ${String(t.dtype)}`);
  }
}

function expectShape(t: HostTensor, shape: number[], name: string, source: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${source}: ${name}: shape [${t.shape}] disagrees with config.json, expected [${shape}]`);
  }
}

/**
 * How a matrix stored as `dtype` goes on the GPU as `type`: its bytes as they are ('upload'), the GPU quantizer
 * from a source type, or (rare: f32 from a half file, requantizing a quantized file) through f32 on the host
 * first ('host'), then the quantizer from f32 unless `type` is f32.
 */
function matrixRoute(dtype: HostDtype, type: WeightType): 'upload' | 'host' | SourceType {
  if (dtype === type.toUpperCase()) return 'upload';
  if (type === 'f32' || dtype === 'Q8_0' || dtype === 'Q4_0') return 'host';
  return dtype === 'F32' ? 'f32' : dtype === 'F16' ? 'f16' : 'bf16';
}

/** Puts one (rows, K) matrix on the GPU in `type`, quantizing on the GPU when the file holds another type. */
async function loadMatrix(ctx: GpuContext, t: HostTensor, name: string, type: WeightType, rows: number, K: number): Promise<WeightTensor> {
  const route = matrixRoute(t.dtype, type);
  if (route === 'upload') return uploadWeight(ctx, name, type, t.data, rows, K);
  if (route !== 'host') return quantizeToWeight(ctx, name, t.data, route, type, rows, K);
  const f = new Uint8Array(hostToF32(t, name).buffer);
  return type === 'f32' ? uploadWeight(ctx, name, type, f, rows, K) : quantizeToWeight(ctx, name, f, 'f32', type, rows, K);
}

/** The embedding and (untied) output head matrices as Hugging Face names them. */
const EMBED_NAME = 'model.embed_tokens.weight';
const LM_HEAD_NAME = 'lm_head.weight';
/** A layer's projection weight as Hugging Face names it. */
const projWeightName = (l: number, p: Projection) => `model.layers.${l}.${projectionModule(p)}.${p}.weight`;

/**
 * The pipelines loadBaseModel creates (the GPU quantizer, per source and target type of the file's matrices),
 * found from the tensors' dtypes alone. The engine creates them before it queues the training step's pipelines
 * ahead (engine/session.ts): a pipeline created on this thread waits behind the ones Dawn is creating
 * asynchronously. Measured on SwiftShader, a 3-layer f16 Llama loaded as q4_0 beside the default plan's compile:
 * the first projection's quantizer took 12.5 s to create there and the weights 14.9 s; created first, 3.1 s.
 */
export function loadPipelines(cfg: ModelConfig, reader: TensorReader, quant: Quant): PipelineSpec[] {
  const { linear, embed } = weightTypes(quant);
  const matrices: [string, WeightType][] = [[EMBED_NAME, embed]];
  if (!cfg.tieEmbeddings) matrices.push([LM_HEAD_NAME, embed]);
  for (let l = 0; l < cfg.L; l++) for (const p of PROJECTIONS) matrices.push([projWeightName(l, p), linear]);
  const specs = new Map<string, PipelineSpec>();
  for (const [name, type] of matrices) {
    const dtype = reader.dtype(name);
    const route = dtype && matrixRoute(dtype, type);
    if (!route || route === 'upload' || (route === 'host' && type === 'f32')) continue; // no quantizer
    const SRC = route === 'host' ? 'f32' : route;
    specs.set(`${SRC} ${type}`, { shader: quantizeShader, defines: { SRC, DST: type } });
  }
  return [...specs.values()];
}

export async function loadBaseModel(
  ctx: GpuContext,
  cfg: ModelConfig,
  reader: TensorReader,
  quant: Quant,
  onProgress?: (done: number, total: number, name: string) => void,
): Promise<BaseModel> {
  const { linear, embed: embedType } = weightTypes(quant);
  const normsPerLayer = 2 + (cfg.qkNorm ? 2 : 0) + (cfg.sandwichNorms ? 2 : 0);
  const total = 3 + cfg.L * (normsPerLayer + PROJECTIONS.length + (cfg.qkvBias ? 3 : 0));
  let done = 0;
  const allocated: (GPUBuffer | WeightTensor)[] = [];
  const read = async (name: string, shape: number[]) => {
    if (!reader.has(name)) throw new Error(`${reader.source}: tensor ${name} is missing`);
    const t = await reader.read(name);
    expectShape(t, shape, name, reader.source);
    onProgress?.(++done, total, name);
    return t;
  };
  const vector = async (name: string, n: number, norm: { scale?: number } | null = null) => {
    let v = hostToF32(await read(name, [n]), `${reader.source}: ${name}`);
    // A half-precision base is the model as PyTorch's .half() makes it: norms and biases are rounded to f16
    // too (kept in f32 storage), which is what shared/golden's f16 reference computes.
    if (quant === 'f16') v = v.map(roundF16);
    // Gemma's RMSNorm multiplies by (1 + w) in float32 (x·rstd·(1.0 + w.float())): the f32 sum stored here is
    // the very factor transformers computes, so the norm kernel stays one kernel.
    if (norm && cfg.normPlusOne) v = v.map((w) => 1 + w);
    // A constant factor of a norm that feeds a linear op (q_norm → RoPE → q·k) folds into its weight.
    if (norm?.scale !== undefined) v = v.map((w) => w * norm.scale!);
    const b = ctx.upload(name, v);
    allocated.push(b);
    return b;
  };
  const norm = (name: string, n: number, scale?: number) => vector(name, n, { scale });
  const freqs = (label: string, theta: number, scaling: ModelConfig['ropeScaling'], linear?: number, divisors?: Float32Array) => {
    let f = ropeInvFreq(cfg.D, theta, scaling);
    // transformers' linear scaling: inv_freq / factor, in f32.
    if (linear) f = f.map((x) => Math.fround(x / Math.fround(linear)));
    // llama.cpp's rope_freqs: θ_i = pos · inv_freq_i / factor_i.
    if (divisors) f = f.map((x, i) => Math.fround(x / divisors[i]));
    const b = ctx.upload(label, f);
    allocated.push(b);
    return b;
  };
  // Gemma 3 scales scores by query_pre_attn_scalar^-½, the attention kernel by D^-½: q_norm's weight carries
  // the ratio √(D / query_pre_attn_scalar) (q is normed, then rotated, then dotted: all linear in that weight).
  const qScale = cfg.queryPreAttnScalar ? Math.sqrt(cfg.D / cfg.queryPreAttnScalar) : undefined;
  const matrix = async (name: string, rows: number, K: number, type: WeightType) => {
    const w = await loadMatrix(ctx, await read(name, [rows, K]), name, type, rows, K);
    allocated.push(w);
    return w;
  };
  try {
    const embed = await matrix(EMBED_NAME, cfg.V, cfg.C, embedType);
    const invFreq = freqs('inv_freq', cfg.ropeTheta, cfg.ropeScaling, cfg.ropeLinearFactor, cfg.ropeFreqFactors);
    const local = cfg.ropeLocal;
    const invFreqLocal = local ? freqs('inv_freq_local', local.theta, local.scaling, local.linearFactor) : undefined;
    const layers: LayerWeights[] = [];
    for (let l = 0; l < cfg.L; l++) {
      const p = `model.layers.${l}`;
      const proj = {} as Record<Projection, WeightTensor>;
      for (const name of PROJECTIONS) {
        const [N, K] = projectionShape(cfg, name);
        proj[name] = await matrix(projWeightName(l, name), N, K, linear);
      }
      let bias: LayerWeights['bias'] = null;
      if (cfg.qkvBias) {
        bias = {
          q_proj: await vector(`${p}.self_attn.q_proj.bias`, cfg.H * cfg.D),
          k_proj: await vector(`${p}.self_attn.k_proj.bias`, cfg.Hkv * cfg.D),
          v_proj: await vector(`${p}.self_attn.v_proj.bias`, cfg.Hkv * cfg.D),
        };
      }
      const lw: LayerWeights = { attnNorm: await norm(`${p}.input_layernorm.weight`, cfg.C), mlpNorm: null!, proj, bias };
      if (cfg.sandwichNorms) {
        // Gemma 3's post_attention_layernorm normalizes the attention output; pre_feedforward_layernorm the MLP input.
        lw.postAttnNorm = await norm(`${p}.post_attention_layernorm.weight`, cfg.C);
        lw.mlpNorm = await norm(`${p}.pre_feedforward_layernorm.weight`, cfg.C);
        lw.postFfNorm = await norm(`${p}.post_feedforward_layernorm.weight`, cfg.C);
      } else {
        lw.mlpNorm = await norm(`${p}.post_attention_layernorm.weight`, cfg.C);
      }
      if (cfg.qkNorm) {
        lw.qNorm = await norm(`${p}.self_attn.q_norm.weight`, cfg.D, qScale);
        lw.kNorm = await norm(`${p}.self_attn.k_norm.weight`, cfg.D);
      }
      if (cfg.layerTypes?.[l] === 'sliding_attention') lw.invFreq = invFreqLocal;
      layers.push(lw);
    }
    const finalNorm = await norm('model.norm.weight', cfg.C);
    let lmHead = embed;
    if (!cfg.tieEmbeddings) lmHead = await matrix(LM_HEAD_NAME, cfg.V, cfg.C, embedType);
    else onProgress?.(++done, total, `${LM_HEAD_NAME} (tied)`);
    let bytes = 0;
    for (const a of allocated) bytes += 'parts' in a ? a.byteLength : a.size;
    return { cfg, quant, embed, layers, finalNorm, lmHead, invFreq, bytes };
  } catch (e) {
    for (const a of allocated) {
      if ('parts' in a) releaseWeight(ctx, a);
      else ctx.release(a);
    }
    throw e;
  }
}

export function releaseBaseModel(ctx: GpuContext, m: BaseModel): void {
  releaseWeight(ctx, m.embed);
  if (m.lmHead !== m.embed) releaseWeight(ctx, m.lmHead);
  for (const l of m.layers) {
    for (const p of PROJECTIONS) releaseWeight(ctx, l.proj[p]);
    ctx.release(l.attnNorm);
    ctx.release(l.mlpNorm);
    if (l.bias) Object.values(l.bias).forEach((b) => ctx.release(b));
    for (const b of [l.qNorm, l.kNorm, l.postAttnNorm, l.postFfNorm]) if (b) ctx.release(b);
  }
  ctx.release(m.finalNorm);
  ctx.release(m.invFreq);
  const local = m.layers.find((l) => l.invFreq)?.invFreq;
  if (local) ctx.release(local);
}

/** A TensorReader over tensors already in memory (tests, tiny models). */
export function memoryReader(source: string, tensors: Map<string, HostTensor>): TensorReader {
  return { source, has: (n) => tensors.has(n), dtype: (n) => tensors.get(n)?.dtype ?? null, read: async (n) => tensors.get(n)! };
}

