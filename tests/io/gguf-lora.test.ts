// The GGUF LoRA export, read back with the project's GGUF reader and checked against the PEFT export of the
// same adapter: metadata as convert_lora_to_gguf.py writes it, llama.cpp's names and ggml shapes, values.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportGgufLora } from '../../src/io/gguf-lora.ts';
import { GgmlType, openGguf, readGgufTensor } from '../../src/io/gguf.ts';
import { f16BitsToF32, roundF16 } from '../../src/kernels/quant/formats.ts';
import { exportPeftAdapter, importPeftAdapter, LORA_MODULES, type LoraAdapter, type LoraModule } from '../../src/io/peft.ts';
import { memorySource } from '../../src/io/source.ts';
import { Rng } from '../../src/util/rng.ts';
import { GOLDEN_DIR, goldenAdapter } from '../util/golden.ts';
import { throws } from './helpers.ts';

const goldenConfig = () => JSON.parse(readFileSync(resolve(GOLDEN_DIR, 'model/config.json'), 'utf8')) as Record<string, unknown>;
const f32 = (d: Uint8Array) => new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
const GGUF_NAME: Record<LoraModule, string> = {
  q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output', gate_proj: 'ffn_gate', up_proj: 'ffn_up', down_proj: 'ffn_down',
};

/**
 * convert_hf_to_gguf's LlamaModel.permute, spelled as the numpy it is: w.reshape(heads, 2, rows/heads/2, cols)
 * .swapaxes(1, 2).reshape(w.shape), on a (rows, cols) row-major array — written out here by index so the test
 * does not reuse the exporter's permuteRows.
 */
function llamaPermute(w: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const half = rows / heads / 2;
  const out = new Float32Array(w.length);
  // after swapaxes the array is (heads, half, 2, cols): element [h][i][j][c] comes from [h][j][i][c]
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const dst = ((h * half + i) * 2 + j) * cols;
        const src = ((h * 2 + j) * half + i) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** The adapter as PEFT files and back: what a user's adapter folder holds. */
async function throughPeft(adapter: LoraAdapter, config: Record<string, unknown>): Promise<LoraAdapter> {
  const e = exportPeftAdapter(adapter);
  return importPeftAdapter({ config: e.config, weights: e.weights }, config as never);
}

describe('GGUF LoRA export', () => {
  it('writes the golden Llama adapter as convert_lora_to_gguf.py does: metadata, names, shapes, values, Q/K rows permuted in B only', async () => {
    const config = goldenConfig();
    const peft = await throughPeft(await goldenAdapter(config), config);
    const g = await openGguf(memorySource(exportGgufLora(peft, config), 'adapter.gguf'));
    expect(g.metadata.get('general.architecture')).toBe('llama');
    expect(g.metadata.get('general.type')).toBe('adapter');
    expect(g.metadata.get('adapter.type')).toBe('lora');
    expect(g.metadata.get('adapter.lora.alpha')).toBe(8);
    expect(g.tensors.size).toBe(2 * 2 * LORA_MODULES.length);
    const H = config.num_attention_heads as number;
    const Hkv = config.num_key_value_heads as number;
    const R = peft.settings.r;
    for (const p of peft.pairs) {
      const base = `blk.${p.layer}.${GGUF_NAME[p.module]}.weight`;
      const a = g.tensors.get(`${base}.lora_a`)!;
      const b = g.tensors.get(`${base}.lora_b`)!;
      // llama-adapter.cpp: a.ne[0] == W.ne[0] (in), b.ne[1] == W.ne[1] (out), a.ne[1] == b.ne[0] (R)
      expect([a.dims, b.dims, a.type, b.type]).toEqual([[p.inFeatures, R], [R, p.outFeatures], GgmlType.F32, GgmlType.F32]);
      expect(f32((await readGgufTensor(g, a.name)).data)).toEqual(p.A);
      const gotB = f32((await readGgufTensor(g, b.name)).data);
      const heads = p.module === 'q_proj' ? H : p.module === 'k_proj' ? Hkv : 0;
      const wantB = heads ? llamaPermute(p.B, p.outFeatures, R, heads) : p.B;
      expect(gotB).toEqual(wantB);
      if (heads) expect(gotB).not.toEqual(p.B); // the permutation is not the identity at these shapes
    }
  });

  it('keeps Hugging Face row order for Qwen2, writes F16 and an rsLoRA alpha llama.cpp scales alike', async () => {
    const config = { architectures: ['Qwen2ForCausalLM'], num_attention_heads: 4, num_key_value_heads: 2 };
    const rng = new Rng(5);
    const R = 3;
    const pairs = (['q_proj', 'k_proj', 'down_proj'] as LoraModule[]).map((module, i) => {
      const [inF, outF] = module === 'down_proj' ? [24, 16] : [16, module === 'q_proj' ? 16 : 8];
      return { layer: i, module, inFeatures: inF, outFeatures: outF, A: Float32Array.from({ length: R * inF }, () => rng.normal()), B: Float32Array.from({ length: outF * R }, () => rng.normal()) };
    });
    const adapter: LoraAdapter = { settings: { r: R, alpha: 6, dropout: 0, targetModules: ['q_proj', 'k_proj', 'down_proj'], useRslora: true, baseModel: 'Qwen/x' }, pairs };
    const g = await openGguf(memorySource(exportGgufLora(adapter, config, { dtype: 'F16' }), 'q.gguf'));
    expect(g.metadata.get('general.architecture')).toBe('qwen2');
    expect(g.metadata.get('general.file_type')).toBe(1);
    // alpha' / R = alpha / √R (PEFT's rsLoRA scale), as f32
    expect(g.metadata.get('adapter.lora.alpha')).toBe(Math.fround(6 * Math.sqrt(3)));
    for (const p of pairs) {
      const base = `blk.${p.layer}.${GGUF_NAME[p.module]}.weight`;
      for (const [suffix, want] of [['lora_a', p.A], ['lora_b', p.B]] as const) {
        const t = await readGgufTensor(g, `${base}.${suffix}`);
        expect(g.tensors.get(`${base}.${suffix}`)!.type).toBe(GgmlType.F16);
        const bits = new Uint16Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
        expect(Array.from(bits, f16BitsToF32)).toEqual(Array.from(want, roundF16));
      }
    }
  });

  it('writes the golden-hf Qwen3 adapter under arch qwen3 with B rows in Hugging Face order (no Q/K permutation)', async () => {
    const dir = resolve(GOLDEN_DIR, '../golden-hf/qwen3');
    const config = JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')) as Record<string, unknown>;
    const adapter = await importPeftAdapter(
      { config: readFileSync(resolve(dir, 'adapter/adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(dir, 'adapter/adapter_model.safetensors'))) },
      config as never,
    );
    const g = await openGguf(memorySource(exportGgufLora(adapter, config), 'qwen3.gguf'));
    expect(g.metadata.get('general.architecture')).toBe('qwen3');
    expect(g.tensors.size).toBe(2 * adapter.pairs.length);
    for (const p of adapter.pairs) {
      const base = `blk.${p.layer}.${GGUF_NAME[p.module]}.weight`;
      expect(f32((await readGgufTensor(g, `${base}.lora_a`)).data)).toEqual(p.A);
      expect(f32((await readGgufTensor(g, `${base}.lora_b`)).data)).toEqual(p.B);
    }
  });

  it('refuses an architecture llama.cpp has no name for here, naming the field', () => {
    const adapter: LoraAdapter = { settings: { r: 1, alpha: 1, dropout: 0, targetModules: [], useRslora: false, baseModel: '' }, pairs: [] };
    expect(throws(() => exportGgufLora(adapter, { architectures: ['GPT2LMHeadModel'] }))).toMatch(/architectures: "GPT2LMHeadModel"/);
  });
});
