// The engine calls behind the studio's Hub dataset input and the Runs screen's GGUF and web downloads, without a
// worker: a Hub dataset split and parallel text read from the local Hub-shaped server, a short run on it, the
// adapter as a GGUF LoRA file (read back and compared with the PEFT export), and the web export with its
// onnxruntime-web check, passing on the adapter's own logits and refusing a base it was not trained on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/engine/local.ts';
import type { ModelInfo } from '../../src/engine/types.ts';
import { webExportLimits } from '../../src/engine/web-limits.ts';
import { openGguf, readGgufTensor } from '../../src/io/gguf.ts';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { WEB_MODEL_FILES } from '../../src/onnx/web.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { writeParquet } from '../data/parquet-writer.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';
import { nodeOrt } from '../onnx/ort.ts';
import { REPO } from '../train/util.ts';
import { readZip } from '../ui/zip-reader.ts';

const TRL_ROWS = Array.from({ length: 20 }, (_, i) => ({
  prompt: `Translate this from German to English:\nGerman: Satz ${i} ist kurz.\nEnglish:`,
  chosen: ` Sentence ${i} is short.`,
  rejected: ` Sentence ${i} are short.`,
}));
const PARALLEL_ROWS = Array.from({ length: 5 }, (_, i) => ({ src: `Guten Tag ${i}.`, ref: `Good day ${i}.`, lp: i === 4 ? 'cs-en' : 'de-en' }));
const str = (name: string) => ({ name, type: 'string' as const });

const dir = mkdtempSync(join(tmpdir(), 'cpo-hub-exports-'));
const engine = new LocalEngine(new FolderRunStore(dir));
engine.ort = async () => nodeOrt();
let hub: FakeHub;
let tinyInfo: ModelInfo;
beforeAll(async () => {
  hub = await startFakeHub({
    'me/prefs': {
      type: 'dataset',
      token: 'hf_secret',
      revisions: {
        'refs/convert/parquet': {
          'default/train/0000.parquet': writeParquet(['prompt', 'chosen', 'rejected'].map(str), TRL_ROWS.slice(0, 12), { codec: 'snappy' }),
          'default/train/0001.parquet': writeParquet(['prompt', 'chosen', 'rejected'].map(str), TRL_ROWS.slice(12), { codec: 'gzip' }),
          'default/test/0000.parquet': writeParquet(['prompt', 'chosen', 'rejected'].map(str), TRL_ROWS.slice(0, 2)),
        },
      },
    },
    'me/parallel': { type: 'dataset', revisions: { 'refs/convert/parquet': { 'wmt/train/0000.parquet': writeParquet(['src', 'ref', 'lp'].map(str), PARALLEL_ROWS) } } },
  });
});
afterAll(async () => {
  engine.dispose();
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('LocalEngine: Hub datasets and the GGUF / web exports', { timeout: 900_000 }, () => {
  it('lists and reads a Hub dataset split with the token, and parallel text for the preference builder', async () => {
    const access = { token: 'hf_secret', hubUrl: hub.url };
    await expect(engine.listHubDataset('me/prefs', { hubUrl: hub.url })).rejects.toThrow(/access denied \(HTTP 401/);
    const listing = await engine.listHubDataset('me/prefs', access);
    expect(listing.commit).toBe(hub.commitOf('me/prefs', 'refs/convert/parquet', 'dataset'));
    expect(listing.splits.map((s) => `${s.config}/${s.split}:${s.shards.length}`).sort()).toEqual(['default/test:1', 'default/train:2']);

    tinyInfo = await engine.loadModel({ kind: 'path', path: resolve(REPO, 'public/models/tiny') }, 'q8_0');
    const seen: string[] = [];
    const opts = { maxLength: 64, maxPromptLength: 48, evalFraction: 0.2, seed: 1 };
    const info = await engine.loadHubDataset({ repo: 'me/prefs', config: 'default', split: 'train' }, access, opts, (p) => seen.push(p.what));
    expect(info).toMatchObject({ name: 'hf://datasets/me/prefs/default/train', container: 'parquet', format: 'trl', rowsRead: 20, rowsUsable: 20, hub: { commit: listing.commit, partial: false } });
    expect(seen).toContain('download hf://datasets/me/prefs/default/train');
    expect(seen).toContain('tokenize');

    const par = await engine.readHubParallel({ repo: 'me/parallel' }, { hubUrl: hub.url }, { pair: 'de-en' });
    expect(par.rows.map((r) => r.reference)).toEqual(PARALLEL_ROWS.slice(0, 4).map((r) => r.ref));
    expect(par.report.otherPairs).toBe(1);
  });

  it('exports a run as a GGUF LoRA file holding the PEFT export\'s tensors, and as a checked web export', async () => {
    const cfg = presetConfig('quick', { name: 'hub run', quant: 'q8_0', maxSteps: 2, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 1, evalEvery: 0 });
    const rec = await engine.train(cfg, () => {});
    expect(rec.datasetName).toBe('hf://datasets/me/prefs/default/train');

    const gguf = await engine.exportGguf(rec.id, 'f32');
    expect(gguf.files.map((f) => f.name)).toEqual(['hub-run-adapter.gguf']);
    const g = await openGguf(memorySource(gguf.files[0].bytes, 'a.gguf'));
    expect([g.metadata.get('general.type'), g.metadata.get('adapter.type'), g.metadata.get('general.architecture')]).toEqual(['adapter', 'lora', 'llama']);
    expect(g.metadata.get('adapter.lora.alpha')).toBe(cfg.alpha);
    const peft = await openSafetensors(memorySource(((await engine.exportAdapter(rec.id, 'f32')).files.find((f) => f.name === 'adapter_model.safetensors'))!.bytes, 'peft'));
    expect(g.tensors.size).toBe(peft.tensors.size);
    // v_proj is not permuted: its A and B are PEFT's values exactly.
    const a = await readGgufTensor(g, 'blk.1.attn_v.weight.lora_a');
    const peftA = [...peft.tensors.keys()].find((k) => k.includes('layers.1.self_attn.v_proj.lora_A'))!;
    const f32 = (b: Uint8Array) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    expect(f32(a.data)).toEqual(f32(await peft.read(peftA)));

    const steps: string[] = [];
    const web = await engine.exportWeb(rec.id, (p) => steps.push(p.what));
    expect(steps[0]).toBe('writing the ONNX files');
    // q8_0 base: the check runs the same graph with the base rounded as the engine holds it.
    expect(web.check).toMatchObject({ ok: true, steps: 6, argmaxAgree: 6, checked: 'the same graph with the base as q8_0' });
    expect(web.check.maxAbsDiff).toBeLessThan(1e-3 * Math.max(1, web.check.maxAbsLogit));
    const zip = readZip(web.files[0].bytes);
    expect([...zip.keys()].sort()).toEqual(['config.json', 'generation_config.json', WEB_MODEL_FILES.fp32, WEB_MODEL_FILES.q8, 'tokenizer.json', 'tokenizer_config.json'].map((f) => `hub-run-web/${f}`).sort());
    expect(web.sizes[WEB_MODEL_FILES.fp32]).toBe(zip.get(`hub-run-web/${WEB_MODEL_FILES.fp32}`)!.byteLength);
    const est = webExportLimits(tinyInfo);
    console.log(`web export of the tiny model: model.onnx ${web.sizes[WEB_MODEL_FILES.fp32]} B (estimate ${est.fp32Bytes} B), model_quantized.onnx ${web.sizes[WEB_MODEL_FILES.q8]} B; check max |diff| ${web.check.maxAbsDiff.toExponential(2)} of max |logit| ${web.check.maxAbsLogit.toFixed(3)}; GGUF ${gguf.files[0].bytes.byteLength} B`);
  });

  it('refuses the exports without the run\'s model, and a model too large for one ONNX file', async () => {
    const [rec] = await engine.listRuns();
    engine.dispose();
    await expect(engine.exportGguf(rec.id, 'f32')).rejects.toThrow(/the GGUF export needs the run's base model \(.*tiny\): load it on the Model screen first/);
    const qwen = webExportLimits({ name: 'Qwen2.5-1.5B', vocab: 151936, hidden: 1536, layers: 28, heads: 12, kvHeads: 2, headDim: 128, intermediate: 8960, tiedEmbeddings: true });
    expect(qwen.refuse).toMatch(/over the 2 GiB an ONNX file can hold/);
    expect(webExportLimits({ name: 'Qwen2.5-0.5B', vocab: 151936, hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, tiedEmbeddings: true }).refuse).toBeUndefined();
  });
});
