import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNodeFile } from '../../src/io/node-source.ts';
import { openSafetensors, toFloat32 } from '../../src/io/safetensors.ts';
import { makeTinyModel, writeTinyModel } from '../../scripts/make-tiny-model.ts';

const PUBLIC = join(__dirname, '../../public/models/tiny');

// Deep-equality on megabytes of bytes is slow in the assertion library: compare as buffers.
const bytesOf = (d: Uint8Array | string | undefined) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d!.buffer, d!.byteOffset, d!.byteLength));
const same = (a: Uint8Array | string | undefined, b: Uint8Array | string | undefined) => bytesOf(a).equals(bytesOf(b));

describe('tiny model', () => {
  const defaults = makeTinyModel();

  it('is deterministic from its seed, and public/models/tiny is what the script makes', () => {
    const again = makeTinyModel();
    const other = makeTinyModel({ seed: 7 });
    expect([...again.keys()]).toEqual([...defaults.keys()]);
    for (const [name, data] of defaults) expect(same(again.get(name), data), name).toBe(true);
    expect(same(other.get('model.safetensors'), defaults.get('model.safetensors'))).toBe(false);
    for (const [name, data] of defaults) {
      const file = join(PUBLIC, name);
      expect(existsSync(file), `${file} exists (run: node --import tsx scripts/make-tiny-model.ts)`).toBe(true);
      expect(readFileSync(file).equals(bytesOf(data)), `${name} is up to date (rerun the script)`).toBe(true);
    }
    const total = [...defaults.values()].reduce((s, d) => s + (typeof d === 'string' ? Buffer.byteLength(d) : d.byteLength), 0);
    expect(total).toBeLessThan(3.5e6);
  });

  it('has embedding rows for every tokenizer id and the shapes its config states', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiny-'));
    writeTinyModel(dir, { arch: 'qwen2', dtype: 'F32', tieEmbeddings: false, hidden: 64, heads: 4, kvHeads: 1, intermediate: 96, layers: 3 });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const ids = [...Object.values(tj.model.vocab as Record<string, number>), ...tj.added_tokens.map((a: { id: number }) => a.id)];
    expect(cfg.vocab_size).toBe(Math.max(...ids) + 1);
    expect(cfg).toMatchObject({ architectures: ['Qwen2ForCausalLM'], hidden_size: 64, num_hidden_layers: 3, num_key_value_heads: 1, head_dim: 16, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2 });
    const file = await openNodeFile(join(dir, 'model.safetensors'));
    try {
      const st = await openSafetensors(file);
      expect(st.tensors.get('model.embed_tokens.weight')!.shape).toEqual([cfg.vocab_size, 64]);
      expect(st.tensors.get('lm_head.weight')!.shape).toEqual([cfg.vocab_size, 64]);
      expect(st.tensors.get('model.layers.2.self_attn.k_proj.weight')!.shape).toEqual([16, 64]);
      expect(st.tensors.get('model.layers.2.self_attn.k_proj.bias')!.shape).toEqual([16]);
      expect(st.tensors.get('model.layers.0.mlp.down_proj.weight')!.shape).toEqual([64, 96]);
      expect([...st.tensors.values()].every((t) => t.dtype === 'F32')).toBe(true);
      const q = toFloat32(st.tensors.get('model.layers.0.self_attn.q_proj.weight')!, await st.read('model.layers.0.self_attn.q_proj.weight'));
      const std = Math.sqrt(q.reduce((s, v) => s + v * v, 0) / q.length);
      expect(std).toBeGreaterThan(0.015);
      expect(std).toBeLessThan(0.025);
    } finally {
      await file.close();
    }
  });

  it('default demo model: llama, F16, tied embeddings, hidden 32 (a multiple of the 32-wide quant blocks)', async () => {
    const cfg = JSON.parse(defaults.get('config.json') as string);
    expect(cfg).toMatchObject({ architectures: ['LlamaForCausalLM'], hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, vocab_size: 32000, tie_word_embeddings: true });
    const st = await openSafetensors((await import('../../src/io/source.ts')).memorySource(defaults.get('model.safetensors') as Uint8Array, 'model.safetensors'));
    expect([...st.tensors.values()].every((t) => t.dtype === 'F16')).toBe(true);
    expect(st.tensors.has('lm_head.weight')).toBe(false);
    expect(JSON.parse(defaults.get('tokenizer_config.json') as string).chat_template).toContain('[INST]');
  });
});
