// config.json in the forms people bring: transformers 5 (rope_parameters, per attention kind for Gemma 3) and 4.x
// (rope_theta / rope_scaling), Hub configs as they are, and refusals that name the field.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { parseConfig, SUPPORTED_FAMILIES, type ModelConfig } from '../../src/model/config.ts';
import { openModel, type FileProvider } from '../../src/model/load.ts';
import { Rng } from '../../src/util/rng.ts';
import { rejects, throws } from '../io/helpers.ts';

const HF = resolve(import.meta.dirname, '../../../shared/golden-hf');
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

// As on the Hub (meta-llama/Llama-3.2-1B, HuggingFaceTB/SmolLM2-135M), sizes shrunk for the test's weights.
const LLAMA32 = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001,
  head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072,
  mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.45.0.dev0', use_cache: true, vocab_size: 128256,
};
const SMOLLM2 = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 0, hidden_act: 'silu',
  hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536, is_llama_config: true, max_position_embeddings: 8192,
  model_type: 'llama', num_attention_heads: 9, num_hidden_layers: 30, num_key_value_heads: 3, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_interleaved: false, rope_scaling: null, rope_theta: 100000, tie_word_embeddings: true, torch_dtype: 'bfloat16',
  'transformers.js_config': { kv_cache_dtype: { q4f16: 'float16', fp16: 'float16' } }, transformers_version: '4.42.3', use_cache: true, vocab_size: 49152,
};
const SHRINK = { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, vocab_size: 64 };

/** The same config as transformers 5 writes it: rope_theta and rope_scaling folded into rope_parameters. */
function toV5(c: Record<string, unknown>): Record<string, unknown> {
  const { rope_theta, rope_scaling, torch_dtype, ...rest } = c;
  return { ...rest, dtype: torch_dtype, rope_parameters: { rope_theta, rope_type: 'default', ...(rope_scaling as object | null) } };
}

/** A Hugging Face folder in memory with random weights for `config`. */
function folder(config: Record<string, unknown>, opts: { lmHead?: boolean } = {}): FileProvider {
  const c = parseConfig(config);
  const rng = new Rng(3);
  const t: TensorToWrite[] = [];
  const add = (name: string, shape: number[]) => t.push({ name, dtype: 'F32', shape, data: rng.randn(shape.reduce((a, b) => a * b, 1), 0.1) });
  add('model.embed_tokens.weight', [c.V, c.C]);
  for (let l = 0; l < c.L; l++) {
    const p = `model.layers.${l}`;
    for (const n of ['input_layernorm', 'post_attention_layernorm']) add(`${p}.${n}.weight`, [c.C]);
    for (const [n, s] of [['q_proj', [c.H * c.D, c.C]], ['k_proj', [c.Hkv * c.D, c.C]], ['v_proj', [c.Hkv * c.D, c.C]], ['o_proj', [c.C, c.H * c.D]]] as const) add(`${p}.self_attn.${n}.weight`, [...s]);
    for (const [n, s] of [['gate_proj', [c.F, c.C]], ['up_proj', [c.F, c.C]], ['down_proj', [c.C, c.F]]] as const) add(`${p}.mlp.${n}.weight`, [...s]);
  }
  add('model.norm.weight', [c.C]);
  if (opts.lmHead) add('lm_head.weight', [c.V, c.C]);
  const files = new Map<string, Uint8Array>([
    ['config.json', new TextEncoder().encode(JSON.stringify(config))],
    ['model.safetensors', writeSafetensors(t)],
  ]);
  return { name: 'm', files: () => [...files.keys()], open: async (f) => memorySource(files.get(f)!, f) };
}

describe('config.json', () => {
  it('Llama 3.2 (tied, llama3 RoPE) and SmolLM2 load as they are on the Hub, in 4.x and 5 form alike', async () => {
    for (const hub of [LLAMA32, SMOLLM2]) {
      const v4 = await openModel(folder({ ...hub, ...SHRINK }));
      expect(v4.cfg.tieEmbeddings).toBe(true);
      expect(v4.cfg.ropeTheta).toBe(hub.rope_theta);
      expect(await v4.reader.read('model.layers.1.mlp.down_proj.weight')).toMatchObject({ shape: [32, 48] });
      const v5 = await openModel(folder(toV5({ ...hub, ...SHRINK })));
      // The 4.7% log-prob error of a transformers-5 Llama came from θ and the llama3 scaling being dropped.
      expect(v5.cfg).toEqual(v4.cfg);
    }
    const l32 = parseConfig(toV5(LLAMA32));
    expect(l32.ropeScaling).toEqual({ rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
    expect(l32.ropeTheta).toBe(500000);
  });

  it('refuses an untied config whose lm_head.weight is missing, and loads it with one', async () => {
    const untied = { ...SMOLLM2, ...SHRINK, tie_word_embeddings: false };
    expect(await rejects(openModel(folder(untied)))).toMatch(/m\/config\.json: tie_word_embeddings: .*no lm_head\.weight/);
    expect((await openModel(folder(untied, { lmHead: true }))).cfg.tieEmbeddings).toBe(false);
    // Left out, it is the class's default: untied for Llama.
    const { tie_word_embeddings: _, ...noTie } = untied;
    expect(await rejects(openModel(folder(noTie)))).toMatch(/LlamaForCausalLM's default/);
  });

  it('refuses RoPE types, partial rotary factors and soft-capping it does not implement, naming the field', () => {
    const base = { ...SMOLLM2, ...SHRINK };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling\.rope_type: "yarn" is not supported/],
      [{ rope_scaling: { type: 'dynamic', factor: 2 } }, /rope_scaling\.rope_type: "dynamic" is not supported/],
      [{ rope_parameters: { rope_type: 'longrope', rope_theta: 1e4 } }, /rope_parameters\.rope_type: "longrope"/],
      [{ rope_parameters: { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.5 } }, /rope_parameters\.partial_rotary_factor: 0\.5 is not supported/],
      [{ partial_rotary_factor: 0.25 }, /config\.json: partial_rotary_factor: 0\.25 is not supported/],
      [{ rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling\.low_freq_factor: missing/],
      [{ final_logit_softcapping: 30 }, /final_logit_softcapping: 30 is not supported/],
      [{ rope_interleaved: true }, /rope_interleaved: true is not supported/],
      [{ architectures: ['Gemma2ForCausalLM'] }, /architectures: Gemma2ForCausalLM is not supported/],
    ];
    for (const [patch, re] of cases) expect(throws(() => parseConfig({ ...base, ...patch }))).toMatch(re);
    const gemma = json(resolve(HF, 'gemma3/model/config.json'));
    expect(throws(() => parseConfig({ ...gemma, attn_logit_softcapping: 50 }))).toMatch(/attn_logit_softcapping: 50 is not supported/);
    expect(throws(() => parseConfig({ ...gemma, rope_parameters: { full_attention: { rope_type: 'yarn', factor: 8 }, sliding_attention: { rope_type: 'default' } } })))
      .toMatch(/rope_parameters\.full_attention\.rope_type: "yarn"/);
  });

  it("Qwen2's q/k/v bias is there whatever attention_bias says, as in transformers", () => {
    const qwen2 = { ...SMOLLM2, ...SHRINK, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' };
    for (const attention_bias of [true, false, undefined]) expect(parseConfig({ ...qwen2, attention_bias }).qkvBias).toBe(true);
  });

  it('golden-hf Qwen3 and Gemma 3: transformers 5 and 4.x configs give the same model', () => {
    for (const arch of ['qwen3', 'gemma3']) {
      const v5 = parseConfig(json(resolve(HF, arch, 'model/config.json')));
      const v4 = parseConfig(json(resolve(HF, arch, 'model/config.v4.json')));
      expect(v5).toEqual(v4);
    }
    const q = parseConfig(json(resolve(HF, 'qwen3/model/config.json')));
    expect(q).toMatchObject({ architecture: 'Qwen3ForCausalLM', D: 32, qkNorm: true, qkvBias: false, ropeTheta: 1e6, tieEmbeddings: true });
    const g: ModelConfig = parseConfig(json(resolve(HF, 'gemma3/model/config.json')));
    expect(g).toMatchObject({
      architecture: 'Gemma3ForCausalLM', qkNorm: true, normPlusOne: true, sandwichNorms: true, act: 'gelu_tanh', embedScale: 8,
      queryPreAttnScalar: 24, layerTypes: ['sliding_attention', 'full_attention'], slidingWindow: 8, ropeTheta: 1e6,
      ropeLocal: { theta: 10000, scaling: null },
    });
    // sliding_window_pattern (4.x) when layer_types is absent: every 6th layer is full.
    const { layer_types: _, ...old } = json(resolve(HF, 'gemma3/model/config.v4.json'));
    expect(parseConfig({ ...old, num_hidden_layers: 7, sliding_window_pattern: 6 }).layerTypes).toEqual([...Array(5).fill('sliding_attention'), 'full_attention', 'sliding_attention']);
    // √C in the checkpoint's dtype: 640 (Gemma-3-270M) in bf16 is 25.25, not 25.298.
    expect(parseConfig({ ...old, hidden_size: 640, torch_dtype: 'bfloat16' }).embedScale).toBe(25.25);
  });

  it('exports the supported families for the Model screen', () => {
    expect(SUPPORTED_FAMILIES.map((f) => f.model_type)).toEqual(['llama', 'mistral', 'qwen2', 'qwen3', 'gemma3_text']);
  });
});
