// Model configuration from a Hugging Face config.json, for the architectures this engine runs.
// Anything it cannot run faithfully is refused with the offending field named, never silently approximated.
import { roundF16 } from '../kernels/quant/formats.ts';
import type { RopeScaling } from '../util/rope-freqs.ts';

export type Architecture = 'LlamaForCausalLM' | 'MistralForCausalLM' | 'Qwen2ForCausalLM' | 'Qwen3ForCausalLM' | 'Gemma3ForCausalLM';

/** The model families this engine runs, for the studio's Model screen and the README; anything else is refused. */
export const SUPPORTED_FAMILIES: readonly { name: string; architectures: Architecture[]; model_type: string }[] = [
  { name: 'Llama (Llama 2, Llama 3.x, SmolLM2, TinyLlama)', architectures: ['LlamaForCausalLM'], model_type: 'llama' },
  { name: 'Mistral', architectures: ['MistralForCausalLM'], model_type: 'mistral' },
  { name: 'Qwen2 / Qwen2.5', architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' },
  { name: 'Qwen3', architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3' },
  { name: 'Gemma 3 (text)', architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text' },
];
const ARCHS: Architecture[] = SUPPORTED_FAMILIES.flatMap((f) => f.architectures);

/** RoPE of one kind of layer: θ and an optional frequency scaling. */
export interface RopeParams {
  theta: number;
  scaling: RopeScaling | null;
  /** 'linear' scaling (positions divided by factor, i.e. inv_freq / factor), Gemma 3's global layers. */
  linearFactor?: number;
}

export type LayerType = 'full_attention' | 'sliding_attention';

export interface ModelConfig {
  architecture: Architecture;
  C: number; // hidden_size
  F: number; // intermediate_size
  L: number; // num_hidden_layers
  H: number; // num_attention_heads
  Hkv: number; // num_key_value_heads
  D: number; // head_dim
  V: number; // vocab_size
  eps: number; // rms_norm_eps
  /** RoPE of full-attention layers (every layer but Gemma 3's sliding ones). */
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  tieEmbeddings: boolean;
  /** Qwen2: q/k/v projections carry a bias. */
  qkvBias: boolean;
  maxPositions: number;
  bosId: number | null;
  eosId: number | number[] | null;
  // ---- beyond Llama (absent: Llama's behaviour) ----
  /** 'linear' RoPE scaling factor of full-attention layers. */
  ropeLinearFactor?: number;
  /** GGUF's rope_freqs (Llama 3): inv_freq of full-attention layers divided by these, (D/2). */
  ropeFreqFactors?: Float32Array;
  /** Qwen3, Gemma 3: per-head RMSNorm of q and k (q_norm, k_norm over D) before RoPE. */
  qkNorm?: boolean;
  /** Gemma: RMSNorm multiplies by (1 + w); the stored weights are offsets from 1. */
  normPlusOne?: boolean;
  /** Gemma 3: post-attention, pre-feed-forward and post-feed-forward norms around each block. */
  sandwichNorms?: boolean;
  /** MLP activation of the gate: silu (SwiGLU) or gelu with the tanh approximation (GeGLU). */
  act?: 'silu' | 'gelu_tanh';
  /** Gemma: the embedding output is multiplied by this (√C rounded to the checkpoint's dtype). */
  embedScale?: number;
  /** Gemma 3: attention scores scaled by query_pre_attn_scalar^-½ instead of D^-½. */
  queryPreAttnScalar?: number;
  /** Gemma 3: each layer's attention kind (sliding layers see the last slidingWindow keys). */
  layerTypes?: LayerType[];
  slidingWindow?: number;
  /** RoPE of sliding-attention layers. */
  ropeLocal?: RopeParams;
}

export class ConfigError extends Error {
  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

/** transformers' tie_word_embeddings default per class, when config.json leaves it out. */
const TIE_DEFAULT: Record<Architecture, boolean> = {
  LlamaForCausalLM: false,
  MistralForCausalLM: false,
  Qwen2ForCausalLM: false,
  Qwen3ForCausalLM: false,
  Gemma3ForCausalLM: true,
};

/**
 * One RoPE parameter set, in transformers-5 form (`rope_parameters`: rope_type, rope_theta, factor, …) or the
 * older `rope_scaling` (type / rope_type, factor, …) with θ given beside it. Types other than default, linear
 * and llama3, and partial_rotary_factor ≠ 1, change the computation in ways the engine does not implement.
 */
function parseRope(file: string, field: string, p: Json | null | undefined, theta: number | undefined): RopeParams {
  const out: RopeParams = { theta: theta ?? 10000, scaling: null };
  if (!p) return out;
  if (typeof p !== 'object' || Array.isArray(p)) throw new ConfigError(file, field, `expected an object, got ${JSON.stringify(p)}`);
  if (p.rope_theta !== undefined) {
    if (typeof p.rope_theta !== 'number' || !(p.rope_theta > 0)) throw new ConfigError(file, `${field}.rope_theta`, `expected a positive number, got ${JSON.stringify(p.rope_theta)}`);
    out.theta = p.rope_theta;
  }
  const prf = p.partial_rotary_factor;
  if (prf !== undefined && prf !== null && prf !== 1) throw new ConfigError(file, `${field}.partial_rotary_factor`, `${JSON.stringify(prf)} is not supported (only 1: RoPE over the whole head)`);
  const type = p.rope_type ?? p.type ?? 'default';
  const f = (k: string) => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(file, `${field}.${k}`, `missing or not a number (${JSON.stringify(v)})`);
    return v;
  };
  if (type === 'llama3') {
    out.scaling = {
      rope_type: 'llama3',
      factor: f('factor'),
      low_freq_factor: f('low_freq_factor'),
      high_freq_factor: f('high_freq_factor'),
      original_max_position_embeddings: f('original_max_position_embeddings'),
    };
  } else if (type === 'linear') {
    const factor = f('factor');
    if (factor !== 1) out.linearFactor = factor;
  } else if (type !== 'default') {
    throw new ConfigError(file, `${field}.rope_type`, `${JSON.stringify(type)} is not supported (default, linear and llama3 are)`);
  }
  return out;
}

/** Refuses a field whose value would change the computation in a way this engine does not implement. */
function refuseUnless(file: string, json: Json, field: string, ok: (v: unknown) => boolean, why: string): void {
  const v = json[field];
  if (v !== undefined && !ok(v)) throw new ConfigError(file, field, `${JSON.stringify(v)} is not supported (${why})`);
}

export function parseConfig(json: Json, file = 'config.json'): ModelConfig {
  const num = (field: string, fallback?: number): number => {
    const v = json[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(file, field, 'missing');
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(file, field, `expected a number, got ${JSON.stringify(v)}`);
    return v;
  };
  // RoPE bases and the norm epsilon: a zero or negative value runs, but computes nothing transformers would.
  const pos = (field: string, fallback?: number): number => {
    const v = num(field, fallback);
    if (!(v > 0)) throw new ConfigError(file, field, `expected a positive number, got ${v}`);
    return v;
  };
  const int = (field: string, fallback?: number): number => {
    const v = num(field, fallback);
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(file, field, `expected a positive integer, got ${v}`);
    return v;
  };

  const archs = json.architectures;
  const arch = Array.isArray(archs) ? archs[0] : undefined;
  if (typeof arch !== 'string') throw new ConfigError(file, 'architectures', 'missing');
  if (!ARCHS.includes(arch as Architecture)) {
    throw new ConfigError(file, 'architectures', `${arch} is not supported (supported: ${ARCHS.join(', ')})`);
  }
  const architecture = arch as Architecture;
  const gemma = architecture === 'Gemma3ForCausalLM';
  const qwen3 = architecture === 'Qwen3ForCausalLM';
  // Gemma names its activation hidden_activation (hidden_act is a leftover there).
  const actField = gemma ? 'hidden_activation' : 'hidden_act';
  const act = json[actField] ?? (gemma ? 'gelu_pytorch_tanh' : 'silu');
  const acts: Record<string, 'silu' | 'gelu_tanh'> = gemma ? { gelu_pytorch_tanh: 'gelu_tanh' } : { silu: 'silu' };
  if (typeof act !== 'string' || !acts[act]) throw new ConfigError(file, actField, `${JSON.stringify(act)} is not supported (only ${Object.keys(acts).join(', ')})`);
  if (json.mlp_bias === true) throw new ConfigError(file, 'mlp_bias', 'MLP biases are not supported');
  if (architecture !== 'Qwen2ForCausalLM' && json.attention_bias === true) {
    throw new ConfigError(file, 'attention_bias', 'attention biases are only supported for Qwen2');
  }
  for (const f of ['attn_logit_softcapping', 'final_logit_softcapping']) refuseUnless(file, json, f, (v) => v === null, 'logit soft-capping is not implemented');
  refuseUnless(file, json, 'use_bidirectional_attention', (v) => v === false || v === null, 'only causal attention');
  refuseUnless(file, json, 'rope_interleaved', (v) => v === false || v === null, 'RoPE is rotate-half');
  refuseUnless(file, json, 'partial_rotary_factor', (v) => v === 1 || v === null, 'only 1: RoPE over the whole head');
  const C = int('hidden_size');
  const H = int('num_attention_heads');
  const Hkv = int('num_key_value_heads', H);
  const D = int('head_dim', C / H);
  const L = int('num_hidden_layers');
  const maxPositions = int('max_position_embeddings', 4096);
  if (H % Hkv !== 0) throw new ConfigError(file, 'num_key_value_heads', `${Hkv} does not divide num_attention_heads ${H}`);
  if (D % 2 !== 0) throw new ConfigError(file, 'head_dim', `must be even for RoPE, got ${D}`);

  // Attention kinds. Gemma 3 mixes sliding and full layers (layer_types, or the older sliding_window_pattern:
  // every pattern-th layer is full); elsewhere a sliding window only changes sequences longer than it.
  const window = json.sliding_window;
  let layerTypes: LayerType[] | undefined;
  let slidingWindow: number | undefined;
  if (gemma) {
    slidingWindow = int('sliding_window');
    const lt = json.layer_types;
    if (lt !== undefined && lt !== null) {
      if (!Array.isArray(lt) || lt.length !== L || lt.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
        throw new ConfigError(file, 'layer_types', `expected ${L} entries of full_attention / sliding_attention, got ${JSON.stringify(lt)}`);
      }
      layerTypes = lt as LayerType[];
    } else {
      const pattern = int('sliding_window_pattern', 6);
      layerTypes = Array.from({ length: L }, (_, i) => ((i + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention'));
    }
  } else {
    const useWindow = architecture === 'Qwen2ForCausalLM' || qwen3 ? json.use_sliding_window === true : window !== null && window !== undefined;
    if (useWindow && typeof window === 'number' && window < maxPositions) {
      throw new ConfigError(file, 'sliding_window', `sliding-window attention (${window}) is not supported`);
    }
    const lt = json.layer_types;
    if (Array.isArray(lt) && lt.some((t) => t !== 'full_attention')) {
      throw new ConfigError(file, 'layer_types', `only full_attention layers are supported for ${architecture}, got ${JSON.stringify(lt)}`);
    }
  }

  // RoPE: transformers 5 writes rope_parameters (per attention kind for Gemma 3); older files rope_theta and
  // rope_scaling (and Gemma 3's rope_local_base_freq for sliding layers, which never took the scaling).
  let rope: RopeParams;
  let ropeLocal: RopeParams | undefined;
  const rp = json.rope_parameters as Json | null | undefined;
  const theta = json.rope_theta === undefined || json.rope_theta === null ? undefined : pos('rope_theta');
  if (rp !== undefined && rp !== null) {
    if (typeof rp !== 'object' || Array.isArray(rp)) throw new ConfigError(file, 'rope_parameters', `expected an object, got ${JSON.stringify(rp)}`);
    if (gemma && ('full_attention' in rp || 'sliding_attention' in rp)) {
      for (const k of Object.keys(rp)) if (k !== 'full_attention' && k !== 'sliding_attention') throw new ConfigError(file, `rope_parameters.${k}`, 'unknown attention kind');
      rope = parseRope(file, 'rope_parameters.full_attention', rp.full_attention as Json, theta ?? 1e6);
      ropeLocal = parseRope(file, 'rope_parameters.sliding_attention', rp.sliding_attention as Json, pos('rope_local_base_freq', 10000));
    } else {
      rope = parseRope(file, 'rope_parameters', rp, theta);
      if (gemma) ropeLocal = { theta: pos('rope_local_base_freq', 10000), scaling: null };
    }
  } else {
    rope = parseRope(file, 'rope_scaling', json.rope_scaling as Json | null | undefined, theta ?? (gemma ? 1e6 : 10000));
    if (gemma) ropeLocal = { theta: pos('rope_local_base_freq', 10000), scaling: null };
  }

  const bos = json.bos_token_id;
  const eos = json.eos_token_id;
  const cfg: ModelConfig = {
    architecture,
    C,
    F: int('intermediate_size'),
    L,
    H,
    Hkv,
    D,
    V: int('vocab_size'),
    eps: pos('rms_norm_eps', 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    tieEmbeddings: typeof json.tie_word_embeddings === 'boolean' ? json.tie_word_embeddings : TIE_DEFAULT[architecture],
    // transformers' Qwen2Attention always has q/k/v biases, whatever attention_bias says.
    qkvBias: architecture === 'Qwen2ForCausalLM',
    maxPositions,
    bosId: typeof bos === 'number' ? bos : null,
    eosId: typeof eos === 'number' || Array.isArray(eos) ? (eos as number | number[]) : null,
  };
  if (rope.linearFactor) cfg.ropeLinearFactor = rope.linearFactor;
  if (qwen3 || gemma) cfg.qkNorm = true;
  if (gemma) {
    Object.assign(cfg, {
      // A GGUF from convert_hf_to_gguf already stores 1 + w (ggufConfig says so).
      normPlusOne: json.norm_weights_include_one !== true,
      sandwichNorms: true,
      act: 'gelu_tanh',
      embedScale: embedScale(C, dtypeOf(json)),
      queryPreAttnScalar: num('query_pre_attn_scalar', D),
      layerTypes,
      slidingWindow,
      ropeLocal,
    });
  }
  return cfg;
}

/** The checkpoint's dtype as config.json names it (transformers 5: dtype; 4.x: torch_dtype). */
function dtypeOf(json: Json): string {
  const d = json.dtype ?? json.torch_dtype;
  return typeof d === 'string' ? d : 'float32';
}

/** Gemma's √C as transformers applies it: a tensor in the weights' dtype, so rounded to it. */
function embedScale(C: number, dtype: string): number {
  const s = Math.sqrt(C);
  if (dtype === 'bfloat16') {
    const b = new Float32Array([s]);
    const u = new Uint32Array(b.buffer);
    u[0] = (u[0] + 0x7fff + ((u[0] >> 16) & 1)) & 0xffff0000; // round to nearest even
    return b[0];
  }
  if (dtype === 'float16') return roundF16(s);
  return Math.fround(s);
}

import { PROJECTIONS, type Projection } from './projections.ts';
export { PROJECTIONS, type Projection };

/** (out, in) features of a projection. */
export function projectionShape(c: Pick<ModelConfig, 'C' | 'F' | 'H' | 'Hkv' | 'D'>, p: Projection): [number, number] {
  switch (p) {
    case 'q_proj':
      return [c.H * c.D, c.C];
    case 'k_proj':
    case 'v_proj':
      return [c.Hkv * c.D, c.C];
    case 'o_proj':
      return [c.C, c.H * c.D];
    case 'gate_proj':
    case 'up_proj':
      return [c.F, c.C];
    case 'down_proj':
      return [c.C, c.F];
  }
}

export function projectionModule(p: Projection): 'self_attn' | 'mlp' {
  return p.endsWith('_proj') && ['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(p) ? 'self_attn' : 'mlp';
}
