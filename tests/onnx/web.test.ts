// The web export (base + merged adapter in transformers.js' text-generation layout) loaded by transformers.js'
// own pipeline('text-generation') on onnxruntime-web (wasm, in Node), against our WebGPU decoder: the same
// greedy tokens, and the studio's pre-download check (checkWebExport) on the fp32 and int8 files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { generate } from '../../src/generate/generate.ts';
import { moduleShape, LORA_MODULES, type LoraAdapter } from '../../src/io/peft.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { openModel, type OpenedModel } from '../../src/model/load.ts';
import { createLora, releaseLora, type Lora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { checkWebExport, engineTrace } from '../../src/onnx/web-check.ts';
import { exportWebModel, WEB_MODEL_FILES, type WebExportFile } from '../../src/onnx/web.ts';
import { Rng } from '../../src/util/rng.ts';
import { gpu } from '../util/gpu.ts';
import { nodeOrt } from './ort.ts';

// transformers.js takes the onnxruntime a JS runtime exposes under this symbol instead of onnxruntime-node:
// here the same onnxruntime-web (wasm) the studio ships. It must be set before the library first loads.
(globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = nodeOrt();
const tjs = await import('@huggingface/transformers');
// With a runtime given that way transformers.js lists no devices of its own; 'auto' then passes no execution
// provider and onnxruntime-web picks its registered backend (wasm), as it does in a browser.
const DEVICE = 'auto' as const;

const TINY = resolve(import.meta.dirname, '../../public/models/tiny');
const PROMPTS = ['Translate this from German to English:\nGerman: Guten Morgen.\nEnglish:', 'Hello'];
const NEW_TOKENS = 8;

/** A LoRA on every projection of the tiny model, large enough to change its greedy output. */
function randomAdapter(configJson: Record<string, unknown>): LoraAdapter {
  const rng = new Rng(11);
  const r = 4;
  const pairs = [];
  for (let layer = 0; layer < (configJson.num_hidden_layers as number); layer++) {
    for (const module of LORA_MODULES) {
      const { inFeatures, outFeatures } = moduleShape(configJson as never, module);
      const A = Float32Array.from({ length: r * inFeatures }, () => rng.normal() * 0.5);
      const B = Float32Array.from({ length: outFeatures * r }, () => rng.normal() * 0.5);
      pairs.push({ layer, module, inFeatures, outFeatures, A, B });
    }
  }
  return { settings: { r, alpha: 8, dropout: 0, targetModules: [...LORA_MODULES], useRslora: false, baseModel: 'tiny' }, pairs };
}

function writeFolder(root: string, files: WebExportFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(root, f.name)), { recursive: true });
    writeFileSync(join(root, f.name), f.data);
  }
}

describe('web export: transformers.js pipeline on onnxruntime-web vs the engine', () => {
  let ctx: GpuContext;
  let opened: OpenedModel;
  let base: BaseModel;
  let lora: Lora;
  let adapter: LoraAdapter;
  let files: WebExportFile[];
  let dir: string;
  const report: string[] = [];
  beforeAll(async () => {
    ctx = await gpu();
    opened = await openModel(nodeFiles(TINY));
    adapter = randomAdapter(opened.configJson);
    files = await exportWebModel(opened, adapter, { generationConfig: { bos_token_id: 1, eos_token_id: 2 }, maxPositions: 128 });
    dir = mkdtempSync(join(tmpdir(), 'web-export-'));
    writeFolder(join(dir, 'tiny-web'), files);
    base = await loadBaseModel(ctx, opened.cfg, opened.reader, 'none');
    const { config, init } = adapterInit(adapter);
    lora = createLora(ctx, opened.cfg, { ...config, dropout: 0 }, 0, init);
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = dir + '/';
    tjs.env.useWasmCache = false; // it would fetch() the file: URLs of ort.ts to cache them, which Node's fetch refuses
  });
  afterAll(() => {
    console.log(`web export checks:\n  ${report.join('\n  ')}`);
    releaseLora(ctx, lora);
    releaseBaseModel(ctx, base);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the folder transformers.js expects', () => {
    expect(files.map((f) => f.name).sort()).toEqual(['config.json', 'generation_config.json', WEB_MODEL_FILES.fp32, WEB_MODEL_FILES.q8, 'tokenizer.json', 'tokenizer_config.json'].sort());
    const fp32 = files.find((f) => f.name === WEB_MODEL_FILES.fp32)!.data.byteLength;
    const q8 = files.find((f) => f.name === WEB_MODEL_FILES.q8)!.data.byteLength;
    report.push(`model.onnx ${(fp32 / 2 ** 20).toFixed(2)} MiB, model_quantized.onnx ${(q8 / 2 ** 20).toFixed(2)} MiB`);
    expect(q8).toBeLessThan(fp32 * 0.3);
  });

  it("pipeline('text-generation') (fp32) decodes the engine's greedy tokens, one prompt and a left-padded batch", async () => {
    const pipe = await tjs.pipeline('text-generation', 'tiny-web', { dtype: 'fp32', device: DEVICE });
    try {
      const ids = PROMPTS.map((p) => Array.from((pipe.tokenizer(p).input_ids as { data: BigInt64Array }).data, Number));
      const dec = new Decoder(ctx, base, lora);
      const engine = await generate(dec, ids, { maxNewTokens: NEW_TOKENS, eosIds: [2] });
      dec.release();
      const engineBase = await generate(new Decoder(ctx, base, lora), ids, { maxNewTokens: NEW_TOKENS, eosIds: [2], useLora: false });
      // the adapter changes the greedy output, so agreeing below shows it was merged
      expect(engine.map((g) => g.ids)).not.toEqual(engineBase.map((g) => g.ids));

      // the pipeline's own text (prompt included), one prompt at a time
      for (let i = 0; i < PROMPTS.length; i++) {
        const out = (await pipe(PROMPTS[i], { max_new_tokens: NEW_TOKENS, do_sample: false })) as { generated_text: string }[];
        expect(out[0].generated_text).toBe(pipe.tokenizer.decode([...ids[i], ...engine[i].ids], { skip_special_tokens: true }));
      }
      // token ids, both prompts in one left-padded batch (attention_mask and position_ids at work)
      pipe.tokenizer.padding_side = 'left';
      const inputs = pipe.tokenizer(PROMPTS, { padding: true });
      const seqs = ((await pipe.model.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false })) as { tolist(): bigint[][] }).tolist();
      const width = (inputs.input_ids as { dims: number[] }).dims[1];
      const got = seqs.map((s) => s.slice(width).map(Number));
      const want = engine.map((g) => (g.stop === 'eos' ? [...g.ids, 2] : g.ids));
      expect(got.map((g, i) => g.slice(0, want[i].length))).toEqual(want);
      report.push(`greedy tokens agree: ${want.map((w) => w.length).join(' + ')} tokens (${engine.map((g) => g.stop).join(', ')})`);
    } finally {
      await pipe.dispose();
    }
  }, 300_000); // wasm ORT and SwiftShader share two cores with other test files: 40 s measured alone

  it("pipeline (q8) loads model_quantized.onnx; checkWebExport passes fp32 and int8 against the engine, and fails without the adapter", async () => {
    const pipe = await tjs.pipeline('text-generation', 'tiny-web', { dtype: 'q8', device: DEVICE });
    const out = (await pipe(PROMPTS[0], { max_new_tokens: 4, do_sample: false, return_full_text: false })) as { generated_text: string }[];
    expect(typeof out[0].generated_text).toBe('string');
    await pipe.dispose();

    const ort = nodeOrt();
    const promptIds = [1, 15043, 29892, 3186, 29991];
    const dec = new Decoder(ctx, base, lora);
    const trace = await engineTrace(dec, promptIds, 6);
    dec.useLora = false;
    const bare = await engineTrace(dec, promptIds, 6);
    dec.release();
    const bytes = (v: 'fp32' | 'q8') => files.find((f) => f.name === WEB_MODEL_FILES[v])!.data;
    const fp32 = await checkWebExport(ort, bytes('fp32'), promptIds, trace);
    // int8 rows move the tiny model's logits (max |logit| ~0.5, top-2 gaps below 1e-2) enough to swap near-ties
    const q8 = await checkWebExport(ort, bytes('q8'), promptIds, trace, { tolerance: 0.1, requireArgmax: false });
    const wrong = await checkWebExport(ort, bytes('fp32'), promptIds, bare);
    report.push(`checkWebExport max |logit diff| / max |logit|: fp32 ${fp32.maxAbsDiff.toExponential(2)} / ${fp32.maxAbsLogit.toFixed(2)}, int8 ${q8.maxAbsDiff.toExponential(2)} (argmax ${q8.argmaxAgree}/${q8.steps}), base-only engine ${wrong.maxAbsDiff.toExponential(2)}`);
    expect(fp32).toMatchObject({ ok: true, steps: 6, argmaxAgree: 6 });
    expect(fp32.maxAbsDiff).toBeLessThan(1e-4);
    expect(q8.ok).toBe(true);
    expect(wrong.ok).toBe(false);
  }, 300_000); // wasm ORT and SwiftShader share two cores with other test files: 40 s measured alone
});
