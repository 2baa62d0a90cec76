// GGUF specifics of model loading: Llama 3's rope_freqs tensor. (Qwen3 and Gemma 3 GGUFs are checked against
// transformers in golden-hf.test.ts, where they share the compiled pipelines of the golden cases.)
import { describe, expect, it } from 'vitest';
import { GgmlType, GgufValueType } from '../../src/io/gguf.ts';
import { writeGguf, type GgufEntry, type GgufTensorToWrite } from '../../src/io/gguf-writer.ts';
import { memorySource } from '../../src/io/source.ts';
import { ropeInvFreq } from '../../src/kernels/rope/rope.ts';
import { openModel, type FileProvider } from '../../src/model/load.ts';
import { loadBaseModel, releaseBaseModel } from '../../src/model/model.ts';
import { gpu } from '../util/gpu.ts';

const u32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.UINT32, value });
const f32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.FLOAT32, value });
const oneFile = (name: string, bytes: Uint8Array): FileProvider => ({ name, files: () => [name], open: async () => memorySource(bytes, name) });

describe('GGUF', () => {
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
    const ctx = await gpu();
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
});
