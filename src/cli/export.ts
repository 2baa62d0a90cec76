// `export --model DIR|HUB_ID --adapter PEFT_DIR --format peft|gguf|onnx --out PATH`: a trained adapter in the
// formats people run it with. peft: a folder (or a .zip) for PEFT / vLLM; gguf: one file for llama.cpp's
// --lora and Ollama's ADAPTER; onnx: base + merged adapter as a folder transformers.js and onnxruntime-web load.
// No GPU: the files are computed on the host.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exportGgufLora } from '../io/gguf-lora.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, exportPeftAdapter, importPeftAdapter, type LoraAdapter } from '../io/peft.ts';
import { openModel, type OpenedModel } from '../model/load.ts';
import { nodeFiles } from '../model/node-files.ts';
import { exportWebModel } from '../onnx/web.ts';
import { command, helpOr, parseArgs, required, type ArgSpec } from './args.ts';
import { log, modelFolder } from './session.ts';

export const EXPORT_FORMATS = ['peft', 'gguf', 'onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const SPEC: ArgSpec = {
  model: { type: 'string', help: 'the base model: a Hugging Face folder, or a Hub id (downloaded into the Hugging Face cache)' },
  adapter: { type: 'string', help: 'the adapter: a PEFT folder (adapter_config.json + adapter_model.safetensors), as train writes it' },
  format: { type: 'string', choices: EXPORT_FORMATS, help: 'peft (a folder, or a .zip), gguf (one .gguf file for llama.cpp / Ollama), onnx (a transformers.js folder)' },
  out: { type: 'string', help: 'where to write: a folder (peft, onnx), a .zip (peft) or a .gguf file' },
  dtype: { type: 'string', default: 'f32', choices: ['f32', 'f16'], help: 'peft and gguf tensors' },
  'max-positions': { type: 'number', integer: true, min: 1, help: 'onnx: longest sequence the RoPE tables cover (default min(max_position_embeddings, 4096))' },
  force: { type: 'boolean', help: 'replace files already at --out' },
};
const SYNOPSIS = '--model DIR|HUB_ID --adapter PEFT_DIR --format peft|gguf|onnx --out PATH';

export interface ExportRequest {
  model: OpenedModel;
  /** The model folder, for generation_config.json (onnx). */
  modelDir: string;
  adapter: LoraAdapter;
  format: ExportFormat;
  out: string;
  dtype: 'f32' | 'f16';
  maxPositions?: number;
}

/** What `format` writes, as (path relative to `out`, bytes); '' is `out` itself (a single file). */
export async function exportFiles(r: ExportRequest): Promise<{ name: string; data: Uint8Array }[]> {
  const dtype = r.dtype === 'f16' ? 'F16' : 'F32';
  const enc = (s: string) => new TextEncoder().encode(s);
  switch (r.format) {
    case 'peft': {
      const e = exportPeftAdapter(r.adapter, { dtype });
      if (r.out.toLowerCase().endsWith('.zip')) return [{ name: '', data: e.zip() }];
      return [{ name: ADAPTER_CONFIG, data: enc(e.config) }, { name: ADAPTER_WEIGHTS, data: e.weights }];
    }
    case 'gguf':
      if (!r.out.toLowerCase().endsWith('.gguf')) throw new Error(`export: --out ${r.out}: a GGUF adapter is one file; name it *.gguf`);
      return [{ name: '', data: exportGgufLora(r.adapter, { architectures: [r.model.cfg.architecture], num_attention_heads: r.model.cfg.H, num_key_value_heads: r.model.cfg.Hkv }, { dtype }) }];
    case 'onnx': {
      const gen = join(r.modelDir, 'generation_config.json');
      const generationConfig = existsSync(gen) ? (JSON.parse(readFileSync(gen, 'utf8')) as Record<string, unknown>) : null;
      return exportWebModel(r.model, r.adapter, { generationConfig, maxPositions: r.maxPositions });
    }
  }
}

function readAdapter(dir: string, model: OpenedModel): Promise<LoraAdapter> {
  const files = [join(dir, ADAPTER_CONFIG), join(dir, ADAPTER_WEIGHTS)];
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: not found (an adapter folder holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS})`);
  const c = model.cfg;
  const dims = { hidden_size: c.C, intermediate_size: c.F, num_hidden_layers: c.L, num_attention_heads: c.H, num_key_value_heads: c.Hkv, head_dim: c.D };
  return importPeftAdapter({ config: readFileSync(files[0], 'utf8'), weights: new Uint8Array(readFileSync(files[1])) }, dims);
}

/** Refuses to replace what is already there, unless --force: nothing saved is lost by a mistyped --out. */
function checkOut(out: string, names: string[], force: boolean): void {
  if (!existsSync(out)) return;
  const single = names.length === 1 && names[0] === '';
  if (!single && !statSync(out).isDirectory()) throw new Error(`export: --out ${out} is a file; this format writes a folder`);
  const taken = single ? [out] : names.map((n) => join(out, n)).filter((f) => existsSync(f));
  if (taken.length && !force) throw new Error(`export: ${taken[0]} already exists (pass --force to replace it)`);
}

export const exportCommand = command('export', async (argv: string[]): Promise<number> => {
  const p = parseArgs(argv, SPEC, 'export');
  if (helpOr(p, 'export', SYNOPSIS, SPEC)) return 0;
  const format = required<ExportFormat>(p, 'format', 'export');
  const out = required<string>(p, 'out', 'export');
  const adapterDir = required<string>(p, 'adapter', 'export');
  const dir = await modelFolder(required<string>(p, 'model', 'export'));
  const model = await openModel(nodeFiles(dir));
  try {
    const adapter = await readAdapter(adapterDir, model);
    const files = await exportFiles({ model, modelDir: dir, adapter, format, out, dtype: p.dtype as 'f32' | 'f16', maxPositions: p['max-positions'] as number | undefined });
    checkOut(out, files.map((f) => f.name), p.force === true);
    let bytes = 0;
    for (const f of files) {
      const path = f.name === '' ? out : join(out, f.name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.data);
      bytes += f.data.byteLength;
    }
    log(`export: ${format} (${adapter.pairs.length} adapted projections, r ${adapter.settings.r}) written to ${out}: ${files.length} file(s), ${(bytes / 2 ** 20).toFixed(2)} MiB`);
    return 0;
  } finally {
    await model.close();
  }
});
