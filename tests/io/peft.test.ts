import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roundF16 } from '../../src/kernels/quant/formats.ts';
import { openNodeFile } from '../../src/io/node-source.ts';
import { LORA_MODULES, exportPeftAdapter, importPeftAdapter, loraScale, moduleShape, peftTensorName, type LoraAdapter, type ModelDims } from '../../src/io/peft.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { crc32 } from '../../src/io/zip.ts';
import { Rng } from '../../src/util/rng.ts';
import { rejects } from './helpers.ts';

const GOLDEN = join(__dirname, '../../../shared/golden');
const MODEL: ModelDims = { hidden_size: 64, intermediate_size: 192, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 };

function randomAdapter(r = 4, modules = [...LORA_MODULES]): LoraAdapter {
  const rng = new Rng(3);
  const pairs = [];
  for (let layer = 0; layer < MODEL.num_hidden_layers; layer++) {
    for (const module of modules) {
      const { inFeatures, outFeatures } = moduleShape(MODEL, module);
      pairs.push({ layer, module, inFeatures, outFeatures, A: rng.randn(r * inFeatures), B: rng.randn(outFeatures * r) });
    }
  }
  return { settings: { r, alpha: 16, dropout: 0.05, targetModules: modules, useRslora: true, baseModel: 'org/base' }, pairs };
}

/** Reads a STORE zip's entries back through its central directory, checking sizes and CRCs. */
function unzip(zip: Uint8Array): Map<string, Uint8Array> {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.byteLength - 22;
  expect(dv.getUint32(end, true)).toBe(0x06054b50);
  const count = dv.getUint16(end + 10, true);
  let at = dv.getUint32(end + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    expect(dv.getUint32(at, true)).toBe(0x02014b50);
    const crc = dv.getUint32(at + 16, true);
    const size = dv.getUint32(at + 24, true);
    const nameLen = dv.getUint16(at + 28, true);
    const local = dv.getUint32(at + 42, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLen));
    expect(dv.getUint32(local, true)).toBe(0x04034b50);
    expect(dv.getUint16(local + 8, true)).toBe(0); // STORE
    const dataAt = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    const data = zip.subarray(dataAt, dataAt + size);
    expect(crc32(data)).toBe(crc);
    out.set(name, data);
    at += 46 + nameLen;
  }
  return out;
}

describe('peft', () => {
  it('loads the golden adapter', async () => {
    const cfg = JSON.parse(readFileSync(join(GOLDEN, 'model/config.json'), 'utf8'));
    const weights = await openNodeFile(join(GOLDEN, 'adapter/adapter_model.safetensors'));
    try {
      const a = await importPeftAdapter({ config: readFileSync(join(GOLDEN, 'adapter/adapter_config.json'), 'utf8'), weights }, cfg);
      expect(a.settings).toMatchObject({ r: 4, alpha: 8, useRslora: false, targetModules: [...LORA_MODULES] });
      expect(loraScale(a.settings)).toBe(2);
      expect(a.pairs.length).toBe(2 * 7);
      const down = a.pairs.find((p) => p.layer === 1 && p.module === 'down_proj')!;
      expect([down.inFeatures, down.outFeatures, down.A.length, down.B.length]).toEqual([192, 64, 4 * 192, 64 * 4]);
      const k = a.pairs.find((p) => p.module === 'k_proj')!;
      expect([k.inFeatures, k.outFeatures]).toEqual([64, 32]);
      expect(a.pairs.every((p) => p.B.some((v) => v !== 0))).toBe(true); // both random in the golden set
    } finally {
      await weights.close();
    }
  });

  it('round-trips F32 exactly and F16 rounded, with a zip holding both files', async () => {
    const a = randomAdapter(4, ['q_proj', 'v_proj', 'down_proj']);
    const ex = exportPeftAdapter(a);
    const cfg = JSON.parse(ex.config);
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 16, lora_dropout: 0.05, bias: 'none', use_rslora: true, fan_in_fan_out: false, inference_mode: true, base_model_name_or_path: 'org/base', target_modules: ['q_proj', 'v_proj', 'down_proj'] });
    const back = await importPeftAdapter({ config: ex.config, weights: ex.weights }, MODEL);
    expect(back.settings).toEqual(a.settings);
    expect(back.pairs).toEqual(a.pairs);
    expect(loraScale(back.settings)).toBe(16 / 2);
    const half = await importPeftAdapter({ config: cfg, weights: exportPeftAdapter(a, { dtype: 'F16' }).weights }, MODEL);
    expect(half.pairs[0].A).toEqual(a.pairs[0].A.map(roundF16));
    const files = unzip(ex.zip());
    expect([...files.keys()]).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(new TextDecoder().decode(files.get('adapter_config.json'))).toBe(ex.config);
    expect(files.get('adapter_model.safetensors')).toEqual(ex.weights);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('reads target_modules as PEFT 0.21 writes all-linear on small models: full module paths, matched by suffix', async () => {
    const dir = resolve(import.meta.dirname, '../../../shared/golden-hf/gemma3');
    const model = JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8'));
    const config = readFileSync(resolve(dir, 'adapter/adapter_config.json'), 'utf8');
    expect(JSON.parse(config).target_modules).toContain('model.layers.0.self_attn.q_proj');
    const a = await importPeftAdapter({ config, weights: new Uint8Array(readFileSync(resolve(dir, 'adapter/adapter_model.safetensors'))) }, model);
    expect(a.settings.targetModules).toEqual([...LORA_MODULES]);
    expect(a.pairs).toHaveLength(2 * 7);
    // Every suffix form names the same modules; a path that covers only some layers, or no module, is refused.
    const a1 = randomAdapter(4, ['q_proj', 'down_proj']);
    const { config: c1, weights } = exportPeftAdapter(a1);
    const cfg = JSON.parse(c1);
    const L = MODEL.num_hidden_layers;
    const paths = (f: (l: number) => string[]) => [...Array(L).keys()].flatMap(f);
    for (const targets of [
      paths((l) => [`model.layers.${l}.self_attn.q_proj`, `model.layers.${l}.mlp.down_proj`]),
      paths((l) => [`layers.${l}.self_attn.q_proj`, `${l}.mlp.down_proj`]),
      ['self_attn.q_proj', 'mlp.down_proj'],
    ]) {
      const got = await importPeftAdapter({ config: { ...cfg, target_modules: targets }, weights }, MODEL);
      expect(got.pairs.map((p) => `${p.layer}.${p.module}`)).toEqual(a1.pairs.map((p) => `${p.layer}.${p.module}`));
    }
    const imp = (t: string[]) => rejects(importPeftAdapter({ config: { ...cfg, target_modules: t }, weights }, MODEL));
    expect(await imp(['model.layers.0.self_attn.q_proj', 'down_proj'])).toMatch(/adapter_config\.json: target_modules: q_proj is targeted in layers 0 but not 1.*subset of layers/);
    expect(await imp(['q_proj', 'down_proj', `model.layers.${L}.self_attn.k_proj`])).toMatch(/target_modules: model\.layers\.2\.self_attn\.k_proj does not exist/);
    expect(await imp(['mlp.q_proj'])).toMatch(/target_modules: "mlp\.q_proj" is not supported/);
    expect(await imp(['model.layers.0.q_proj'])).toMatch(/target_modules: "model\.layers\.0\.q_proj" is not supported/);
  });

  it('refuses configs and tensors that do not fit the model, naming the file and the tensor', async () => {
    const a = randomAdapter(4, ['q_proj']);
    const { config, weights } = exportPeftAdapter(a);
    const cfg = JSON.parse(config);
    const imp = (c: object, w: Uint8Array = weights, model = MODEL) => rejects(importPeftAdapter({ config: c, weights: w }, model));
    expect(await imp({ ...cfg, peft_type: 'IA3' })).toMatch(/adapter_config\.json: peft_type: "IA3"/);
    expect(await imp({ ...cfg, task_type: 'SEQ_CLS' })).toMatch(/adapter_config\.json: task_type/);
    expect(await imp({ ...cfg, r: 2.5 })).toMatch(/adapter_config\.json: r: expected a positive integer/);
    expect(await imp({ ...cfg, bias: 'all' })).toMatch(/adapter_config\.json: bias/);
    expect(await imp({ ...cfg, use_dora: true })).toMatch(/use_dora/);
    expect(await imp({ ...cfg, fan_in_fan_out: true })).toMatch(/fan_in_fan_out/);
    expect(await imp({ ...cfg, target_modules: ['q_proj', 'lm_head'] })).toMatch(/target_modules: "lm_head" is not supported/);
    expect(await imp({ ...cfg, rank_pattern: { q_proj: 8 } })).toMatch(/rank_pattern/);
    expect(await rejects(importPeftAdapter({ config: '{', weights }, MODEL))).toMatch(/adapter_config\.json: config: invalid JSON/);
    // r in the config disagrees with the tensors
    expect(await imp({ ...cfg, r: 8 })).toMatch(/adapter_model\.safetensors: tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight": shape \[4,64\], expected \[8,64\]/);
    // a model with fewer layers / other widths
    expect(await imp(cfg, weights, { ...MODEL, num_hidden_layers: 1 })).toMatch(/tensor "base_model\.model\.model\.layers\.1\.self_attn\.q_proj\.lora_[AB]\.weight": layer 1 does not exist/);
    expect(await imp(cfg, weights, { ...MODEL, hidden_size: 32, head_dim: 8 })).toMatch(/q_proj\.lora_A\.weight": shape \[4,64\], expected \[4,32\]/);
    // modules outside target_modules, missing halves, foreign tensors
    expect(await imp({ ...cfg, target_modules: ['v_proj'] })).toMatch(/q_proj\.lora_A\.weight": q_proj is not in target_modules/);
    const onlyA = writeSafetensors([{ name: peftTensorName(0, 'q_proj', 'A'), dtype: 'F32', shape: [4, 64], data: new Float32Array(256) }]);
    expect(await imp(cfg, onlyA)).toMatch(/tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_B\.weight": missing/);
    const foreign = writeSafetensors([{ name: 'base_model.model.lm_head.lora_A.weight', dtype: 'F32', shape: [4, 64], data: new Float32Array(256) }]);
    expect(await imp(cfg, foreign)).toMatch(/tensor "base_model\.model\.lm_head\.lora_A\.weight": not a LoRA weight/);
    const ints = writeSafetensors([{ name: peftTensorName(0, 'q_proj', 'A'), dtype: 'I32', shape: [4, 64], data: new Int32Array(256) }]);
    expect(await imp(cfg, ints)).toMatch(/q_proj\.lora_A\.weight": dtype I32 is not a float type/);
  });
});
