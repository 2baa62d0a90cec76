// GGUF files as llama.cpp's convert_hf_to_gguf writes them for Qwen3 and Gemma 3 (architecture names, metadata
// keys, tensor names, Gemma's norms stored as 1 + w), built from shared/golden-hf's safetensors: they load to
// the same model and give transformers' log-probs. And Llama 3's rope_freqs tensor.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { GgmlType, GgufValueType, hfToGgufName } from '../../src/io/gguf.ts';
import { writeGguf, type GgufEntry, type GgufTensorToWrite } from '../../src/io/gguf-writer.ts';
import { importPeftAdapter } from '../../src/io/peft.ts';
import { openSafetensors, toFloat32 } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { ropeInvFreq } from '../../src/kernels/rope/rope.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { parseConfig } from '../../src/model/config.ts';
import { openModel, type FileProvider } from '../../src/model/load.ts';
import { createLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel } from '../../src/model/model.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { runMicroBatch } from '../../src/train/step.ts';
import { gpu } from '../util/gpu.ts';

const HF = resolve(import.meta.dirname, '../../../shared/golden-hf');
const u32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.UINT32, value });
const f32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.FLOAT32, value });
const oneFile = (name: string, bytes: Uint8Array): FileProvider => ({ name, files: () => [name], open: async () => memorySource(bytes, name) });

/** The golden-hf model of `arch` as a GGUF (F32 tensors), the way convert_hf_to_gguf lays it out. */
async function toGguf(arch: 'qwen3' | 'gemma3'): Promise<Uint8Array> {
  const dir = resolve(HF, arch, 'model');
  const cfg = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
  const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(resolve(dir, 'model.safetensors'))), 'model.safetensors'));
  const tensors: GgufTensorToWrite[] = [];
  for (const [name, info] of st.tensors) {
    const gname = hfToGgufName(name, arch);
    if (!gname) throw new Error(`no GGUF name for ${name}`);
    let v = toFloat32(info, await st.read(name));
    if (arch === 'gemma3' && name.endsWith('norm.weight')) v = v.map((w) => w + 1); // convert_hf_to_gguf's Gemma norms
    tensors.push({ name: gname, type: GgmlType.F32, dims: [...info.shape].reverse(), data: new Uint8Array(v.buffer) });
  }
  const meta: GgufEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: arch },
    u32(`${arch}.block_count`, cfg.num_hidden_layers),
    u32(`${arch}.context_length`, cfg.max_position_embeddings),
    u32(`${arch}.embedding_length`, cfg.hidden_size),
    u32(`${arch}.feed_forward_length`, cfg.intermediate_size),
    u32(`${arch}.attention.head_count`, cfg.num_attention_heads),
    u32(`${arch}.attention.head_count_kv`, cfg.num_key_value_heads),
    u32(`${arch}.attention.key_length`, cfg.head_dim),
    u32(`${arch}.attention.value_length`, cfg.head_dim),
    f32(`${arch}.attention.layer_norm_rms_epsilon`, cfg.rms_norm_eps),
    f32(`${arch}.rope.freq_base`, arch === 'gemma3' ? cfg.rope_parameters.full_attention.rope_theta : cfg.rope_parameters.rope_theta),
  ];
  if (arch === 'gemma3') meta.push(u32('gemma3.attention.sliding_window', cfg.sliding_window), u32('gemma3.attention.sliding_window_pattern', 2));
  return writeGguf(meta, tensors);
}

describe('GGUF of Qwen3 and Gemma 3 as llama.cpp writes them', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await gpu();
  });

  /** Σ log p of the golden pairs' chosen and rejected answers, with the golden adapter. */
  async function logps(arch: string, opened: Awaited<ReturnType<typeof openModel>>): Promise<number[]> {
    const dir = resolve(HF, arch);
    const g = JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8'));
    const pairs = g.examples.map((e: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));
    const base = await loadBaseModel(ctx, opened.cfg, opened.reader, 'none');
    const adapter = await importPeftAdapter(
      { config: readFileSync(resolve(dir, 'adapter/adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(dir, 'adapter/adapter_model.safetensors'))) },
      JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')),
    );
    const ad = adapterInit(adapter);
    const lora = createLora(ctx, opened.cfg, { ...ad.config, dropout: 0 }, 0, ad.init);
    const tf = new Transformer(ctx, base, lora);
    try {
      const chosenTokens = pairs.reduce((a: number, p: { chosenIds: number[] }) => a + p.chosenIds.length, 0);
      const res = await runMicroBatch(tf, pairs, { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 }, { pairs: pairs.length, chosenTokens }, { backward: false, accumulate: false, dropoutSeed: null });
      return res.logps.flatMap((l) => [l.chosenSum, l.rejectedSum]);
    } finally {
      tf.release();
      releaseLora(ctx, lora);
      releaseBaseModel(ctx, base);
      await opened.close();
    }
  }
  const relErr = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));

  it("qwen3: the same model as the Hugging Face folder, and transformers' log-probs", async () => {
    const dir = resolve(HF, 'qwen3');
    const opened = await openModel(oneFile('qwen3.gguf', await toGguf('qwen3')));
    const hfCfg = parseConfig(JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')));
    // The GGUF written here has no token ids nor the HF position limit, and holds ε as f32.
    const strip = ({ bosId: _b, eosId: _e, maxPositions: _m, eps, ...rest }: typeof hfCfg) => ({ ...rest, eps: Math.fround(eps) });
    expect(strip(opened.cfg)).toEqual(strip(hfCfg));
    const c = JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8')).cases[0];
    expect(c).toMatchObject({ quant: 'none', loss: 'sigmoid' });
    const want = c.chosen_logps.flatMap((x: number, i: number) => [x, c.rejected_logps[i]]);
    expect(relErr(await logps('qwen3', opened), want)).toBeLessThan(1e-4);
  });

  it('gemma3: norms stored as 1 + w, scores scaled by head_dim^-½ as llama.cpp does; the same log-probs as the HF folder', async () => {
    const dir = resolve(HF, 'gemma3');
    const opened = await openModel(oneFile('gemma3.gguf', await toGguf('gemma3')));
    // llama.cpp has no query_pre_attn_scalar: it scales by head_dim^-½ (hidden/heads on the 27B). The golden
    // model's 24 cannot be written to a GGUF, so the Hugging Face folder is given head_dim to compare with.
    const json = { ...JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')), query_pre_attn_scalar: 32 };
    const hfCfg = parseConfig(json);
    const strip = ({ bosId: _b, eosId: _e, maxPositions: _m, normPlusOne: _n, eps, ...rest }: typeof hfCfg) => ({ ...rest, eps: Math.fround(eps) });
    expect(strip(opened.cfg)).toEqual(strip(hfCfg));
    expect(opened.cfg.normPlusOne).toBe(false);
    const files = new Map([
      ['config.json', new TextEncoder().encode(JSON.stringify(json))],
      ['model.safetensors', new Uint8Array(readFileSync(resolve(dir, 'model/model.safetensors')))],
    ]);
    const hf = await openModel({ name: 'gemma3', files: () => [...files.keys()], open: async (f) => memorySource(files.get(f)!, f) });
    expect(relErr(await logps('gemma3', opened), await logps('gemma3', hf))).toBeLessThan(1e-6);
  });

  it("Llama 3's rope_freqs tensor: the llama3-scaled frequencies, as transformers computes them", async () => {
    const [C, H, D, V, F] = [64, 2, 32, 64, 96];
    const scaling = { rope_type: 'llama3' as const, factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    const plain = ropeInvFreq(D, 500000);
    const want = ropeInvFreq(D, 500000, scaling);
    // convert_hf_to_gguf writes 1 / (the llama3 multiplier) per frequency.
    const factors = Float32Array.from(plain, (p, i) => p / want[i]);
    const mat = (rows: number, k: number) => new Uint8Array(new Float32Array(rows * k).fill(0.01).buffer);
    const vec = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);
    const tensors: GgufTensorToWrite[] = [
      { name: 'token_embd.weight', type: GgmlType.F32, dims: [C, V], data: mat(V, C) },
      { name: 'output_norm.weight', type: GgmlType.F32, dims: [C], data: vec(C) },
      { name: 'rope_freqs.weight', type: GgmlType.F32, dims: [D / 2], data: new Uint8Array(factors.buffer) },
      { name: 'blk.0.attn_norm.weight', type: GgmlType.F32, dims: [C], data: vec(C) },
      { name: 'blk.0.ffn_norm.weight', type: GgmlType.F32, dims: [C], data: vec(C) },
      ...(['attn_q', 'attn_k', 'attn_v'] as const).map((n) => ({ name: `blk.0.${n}.weight`, type: GgmlType.F32, dims: [C, H * D], data: mat(H * D, C) })),
      { name: 'blk.0.attn_output.weight', type: GgmlType.F32, dims: [H * D, C], data: mat(C, H * D) },
      { name: 'blk.0.ffn_gate.weight', type: GgmlType.F32, dims: [C, F], data: mat(F, C) },
      { name: 'blk.0.ffn_up.weight', type: GgmlType.F32, dims: [C, F], data: mat(F, C) },
      { name: 'blk.0.ffn_down.weight', type: GgmlType.F32, dims: [F, C], data: mat(C, F) },
    ];
    const file = writeGguf([
      { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
      u32('llama.block_count', 1), u32('llama.context_length', 128), u32('llama.embedding_length', C), u32('llama.feed_forward_length', F),
      u32('llama.attention.head_count', H), u32('llama.attention.head_count_kv', H), u32('llama.attention.key_length', D),
      f32('llama.attention.layer_norm_rms_epsilon', 1e-5), f32('llama.rope.freq_base', 500000),
    ], tensors);
    const opened = await openModel(oneFile('l3.gguf', file));
    const base = await loadBaseModel(ctx, opened.cfg, opened.reader, 'none');
    try {
      const got = await ctx.readF32(base.invFreq, D / 2);
      for (let i = 0; i < D / 2; i++) expect(Math.abs(got[i] - want[i]) / want[i]).toBeLessThan(2.5e-7); // one f32 rounding
      expect(Math.max(...Array.from(got, (g, i) => Math.abs(g - plain[i]) / plain[i]))).toBeGreaterThan(0.5); // scaled
    } finally {
      releaseBaseModel(ctx, base);
      await opened.close();
    }
  });
  afterAll(() => undefined);
});
