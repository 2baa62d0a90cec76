// Model configuration from a Hugging Face config.json, for the architectures this engine runs.
// Anything it cannot run faithfully is refused with the offending field named, never silently approximated.
import type { RopeScaling } from '../kernels/rope/rope.ts';

export type Architecture = 'LlamaForCausalLM' | 'MistralForCausalLM' | 'Qwen2ForCausalLM';
const ARCHS: Architecture[] = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'];

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
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  tieEmbeddings: boolean;
  /** Qwen2: q/k/v projections carry a bias. */
  qkvBias: boolean;
  maxPositions: number;
  bosId: number | null;
  eosId: number | number[] | null;
}

export class ConfigError extends Error {
  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

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
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ConfigError(file, 'hidden_act', `${act} is not supported (only silu)`);
  if (json.mlp_bias === true) throw new ConfigError(file, 'mlp_bias', 'MLP biases are not supported');
  if (architecture !== 'Qwen2ForCausalLM' && json.attention_bias === true) {
    throw new ConfigError(file, 'attention_bias', 'attention biases are only supported for Qwen2');
  }
  // Mistral/Qwen2 declare a sliding window; it only changes results for sequences longer than the window.
  const window = json.sliding_window;
  const useWindow = architecture === 'Qwen2ForCausalLM' ? json.use_sliding_window === true : window !== null && window !== undefined;
  const C = int('hidden_size');
  const H = int('num_attention_heads');
  const Hkv = int('num_key_value_heads', H);
  const D = int('head_dim', C / H);
  const maxPositions = int('max_position_embeddings', 4096);
  if (useWindow && typeof window === 'number' && window < maxPositions) {
    throw new ConfigError(file, 'sliding_window', `sliding-window attention (${window}) is not supported`);
  }
  if (H % Hkv !== 0) throw new ConfigError(file, 'num_key_value_heads', `${Hkv} does not divide num_attention_heads ${H}`);
  if (D % 2 !== 0) throw new ConfigError(file, 'head_dim', `must be even for RoPE, got ${D}`);

  let ropeScaling: RopeScaling | null = null;
  const rs = json.rope_scaling as Json | null | undefined;
  if (rs) {
    const type = rs.rope_type ?? rs.type;
    if (type === 'llama3') {
      const f = (k: string) => {
        const v = rs[k];
        if (typeof v !== 'number') throw new ConfigError(file, `rope_scaling.${k}`, 'missing or not a number');
        return v;
      };
      ropeScaling = {
        rope_type: 'llama3',
        factor: f('factor'),
        low_freq_factor: f('low_freq_factor'),
        high_freq_factor: f('high_freq_factor'),
        original_max_position_embeddings: f('original_max_position_embeddings'),
      };
    } else if (type !== 'default') {
      throw new ConfigError(file, 'rope_scaling.rope_type', `${String(type)} is not supported (default and llama3 are)`);
    }
  }
  const bos = json.bos_token_id;
  const eos = json.eos_token_id;
  return {
    architecture,
    C,
    F: int('intermediate_size'),
    L: int('num_hidden_layers'),
    H,
    Hkv,
    D,
    V: int('vocab_size'),
    eps: num('rms_norm_eps', 1e-6),
    ropeTheta: num('rope_theta', 10000),
    ropeScaling,
    tieEmbeddings: json.tie_word_embeddings === true,
    qkvBias: architecture === 'Qwen2ForCausalLM' ? json.attention_bias !== false : false,
    maxPositions,
    bosId: typeof bos === 'number' ? bos : null,
    eosId: typeof eos === 'number' || Array.isArray(eos) ? (eos as number | number[]) : null,
  };
}

import { PROJECTIONS, type Projection } from './projections.ts';
export { PROJECTIONS, type Projection };

/** (out, in) features of a projection. */
export function projectionShape(c: ModelConfig, p: Projection): [number, number] {
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
