// A tiny random Llama/Qwen2-architecture checkpoint in Hugging Face layout, deterministic from a seed, around
// a real tokenizer: for tests and the studio's built-in demo model. Browser-safe (no file access).
import { f32ToF16Bits } from '../util/f16.ts';
import { Rng } from '../util/rng.ts';
import { writeSafetensors, type TensorToWrite } from './safetensors.ts';

export interface TinyModelOptions {
  seed?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  dtype?: 'F32' | 'F16';
  tieEmbeddings?: boolean;
  arch?: 'llama' | 'qwen2';
}

export interface TinyModelTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

export const TINY_DEFAULTS: Required<TinyModelOptions> = {
  seed: 1234, hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64, dtype: 'F16', tieEmbeddings: true, arch: 'llama',
};

/** Token ids run 0..max over the model vocab and added tokens; embedding rows must cover all of them. */
export function tokenizerVocabSize(tokenizerJson: Record<string, unknown>): number {
  let max = -1;
  const vocab = (tokenizerJson.model as { vocab?: Record<string, number> | [string, number][] } | undefined)?.vocab;
  if (Array.isArray(vocab)) max = vocab.length - 1; // Unigram: [piece, score] list indexed by id
  else if (vocab) for (const id of Object.values(vocab)) max = Math.max(max, id);
  for (const a of (tokenizerJson.added_tokens as { id: number }[] | undefined) ?? []) max = Math.max(max, a.id);
  if (max < 0) throw new Error('tokenizer.json: model.vocab: empty');
  return max + 1;
}

/** file name → contents (JSON files as text, weights as bytes). */
export function makeTinyModelFiles(tok: TinyModelTokenizer, options: TinyModelOptions = {}): Map<string, Uint8Array | string> {
  const o = { ...TINY_DEFAULTS, ...options };
  const { hidden: C, layers: L, heads: H, kvHeads: Hkv, intermediate: F } = o;
  if (C % H !== 0 || H % Hkv !== 0 || (C / H) % 2 !== 0) throw new Error(`makeTinyModel: hidden ${C}, heads ${H}, kvHeads ${Hkv} do not give an even head size shared by groups`);
  const D = C / H;
  const V = tokenizerVocabSize(tok.tokenizerJson);
  const rng = new Rng(o.seed);
  const tensors: TensorToWrite[] = [];
  const add = (name: string, shape: number[], values: Float32Array) =>
    tensors.push({ name, dtype: o.dtype, shape, data: o.dtype === 'F32' ? values : Uint16Array.from(values, f32ToF16Bits) });
  const randn = (shape: number[]) => rng.randn(shape.reduce((a, b) => a * b, 1), 0.02); // HF initializer_range
  const ones = (n: number) => new Float32Array(n).fill(1);
  add('model.embed_tokens.weight', [V, C], randn([V, C]));
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [C], ones(C));
    add(`${p}.self_attn.q_proj.weight`, [H * D, C], randn([H * D, C]));
    add(`${p}.self_attn.k_proj.weight`, [Hkv * D, C], randn([Hkv * D, C]));
    add(`${p}.self_attn.v_proj.weight`, [Hkv * D, C], randn([Hkv * D, C]));
    if (o.arch === 'qwen2') {
      add(`${p}.self_attn.q_proj.bias`, [H * D], randn([H * D]));
      add(`${p}.self_attn.k_proj.bias`, [Hkv * D], randn([Hkv * D]));
      add(`${p}.self_attn.v_proj.bias`, [Hkv * D], randn([Hkv * D]));
    }
    add(`${p}.self_attn.o_proj.weight`, [C, H * D], randn([C, H * D]));
    add(`${p}.post_attention_layernorm.weight`, [C], ones(C));
    add(`${p}.mlp.gate_proj.weight`, [F, C], randn([F, C]));
    add(`${p}.mlp.up_proj.weight`, [F, C], randn([F, C]));
    add(`${p}.mlp.down_proj.weight`, [C, F], randn([C, F]));
  }
  add('model.norm.weight', [C], ones(C));
  if (!o.tieEmbeddings) add('lm_head.weight', [V, C], randn([V, C]));

  const tc = tok.tokenizerConfig;
  const tokenId = (field: string): number | null => {
    const t = tc[field];
    const content = typeof t === 'string' ? t : (t as { content?: string } | null)?.content;
    const vocab = (tok.tokenizerJson.model as { vocab?: Record<string, number> }).vocab;
    const added = (tok.tokenizerJson.added_tokens as { id: number; content: string }[] | undefined)?.find((a) => a.content === content);
    return content === undefined ? null : added?.id ?? (vocab && !Array.isArray(vocab) ? vocab[content] ?? null : null);
  };
  const bos = tokenId('bos_token');
  const eos = tokenId('eos_token');
  const config: Record<string, unknown> = {
    architectures: [o.arch === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: o.arch,
    hidden_size: C,
    intermediate_size: F,
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: Hkv,
    head_dim: D,
    hidden_act: 'silu',
    max_position_embeddings: 2048,
    initializer_range: 0.02,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    rope_scaling: null,
    tie_word_embeddings: o.tieEmbeddings,
    vocab_size: V,
    bos_token_id: bos,
    eos_token_id: eos,
    torch_dtype: o.dtype === 'F32' ? 'float32' : 'float16',
    ...(o.arch === 'qwen2' ? { use_sliding_window: false, sliding_window: null } : { attention_bias: false, mlp_bias: false }),
  };
  const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';
  return new Map<string, Uint8Array | string>([
    ['config.json', json(config)],
    ['generation_config.json', json({ bos_token_id: bos, eos_token_id: eos, do_sample: false })],
    ['model.safetensors', writeSafetensors(tensors, { format: 'pt', seed: String(o.seed) })],
    // tokenizer.json is large: minified, as the tokenizers library itself writes it.
    ['tokenizer.json', JSON.stringify(tok.tokenizerJson)],
    ['tokenizer_config.json', json(tc)],
  ]);
}
