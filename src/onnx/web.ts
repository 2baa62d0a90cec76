// Base + merged adapter as a folder transformers.js loads with pipeline('text-generation', folder) and
// onnxruntime-web runs: the layout of the Hub's onnx-community models.
//
//   config.json  generation_config.json  tokenizer.json  tokenizer_config.json
//   onnx/model.onnx            fp32 weights                        (dtype 'fp32')
//   onnx/model_quantized.onnx  int8 weights, one f32 scale per row (dtype 'q8': transformers.js' suffix for it)
//
// The graph is the Optimum decoder layout (llama.ts, kvCache): input_ids, attention_mask, position_ids and
// past_key_values.N.key/value in; logits and present.N.key/value out, so generation reuses the cache.
import type { LoraAdapter } from '../io/peft.ts';
import type { OpenedModel } from '../model/load.ts';
import { exportOnnx } from './llama.ts';

export interface WebExportFile {
  /** Path inside the export folder ('onnx/model.onnx', 'config.json', …). */
  name: string;
  data: Uint8Array;
}

/** The opened base model's parts the export needs. */
export type WebExportSource = Pick<OpenedModel, 'name' | 'cfg' | 'configJson' | 'reader' | 'tokenizerJson' | 'tokenizerConfig'>;

export interface WebExportOptions {
  /** Which weight files to write (default both). */
  variants?: ('fp32' | 'q8')[];
  /** The base's generation_config.json, when it has one (else bos/eos from config.json). */
  generationConfig?: Record<string, unknown> | null;
  /** Longest sequence (prompt + new tokens) the RoPE tables cover (default min(max_position_embeddings, 4096)). */
  maxPositions?: number;
}

export const WEB_MODEL_FILES = { fp32: 'onnx/model.onnx', q8: 'onnx/model_quantized.onnx' } as const;

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o, null, 2) + '\n');

export async function exportWebModel(src: WebExportSource, adapter: LoraAdapter | null, opts: WebExportOptions = {}): Promise<WebExportFile[]> {
  if (!src.tokenizerJson) {
    throw new Error(`${src.name}: transformers.js needs tokenizer.json, and this model has none (a GGUF file keeps its tokenizer in its metadata): export from the Hugging Face folder`);
  }
  const variants = opts.variants ?? ['fp32', 'q8'];
  const files: WebExportFile[] = [];
  for (const v of variants) {
    const metadata: Record<string, string> = { layout: 'transformers.js text-generation', weights: v === 'q8' ? 'int8 per row' : 'fp32' };
    if (adapter) metadata.adapter = 'merged';
    const onnx = await exportOnnx(src.cfg, src.reader, adapter, { kvCache: true, mergeAdapter: true, int8Weights: v === 'q8', maxPositions: opts.maxPositions, metadata });
    files.push({ name: WEB_MODEL_FILES[v], data: onnx });
  }
  const c = src.configJson;
  const generation = opts.generationConfig ?? { bos_token_id: c.bos_token_id, eos_token_id: c.eos_token_id };
  files.push(
    // use_cache: transformers.js feeds the cache back (the graph has past_key_values inputs either way).
    { name: 'config.json', data: json({ ...c, use_cache: true }) },
    { name: 'generation_config.json', data: json(generation) },
    { name: 'tokenizer.json', data: json(src.tokenizerJson) },
  );
  if (src.tokenizerConfig) files.push({ name: 'tokenizer_config.json', data: json(src.tokenizerConfig) });
  return files;
}
