// A run's adapter for llama.cpp (one GGUF LoRA file) and for the web (base + merged adapter in transformers.js'
// layout, checked in onnxruntime-web before it is offered). Both need the run's base model loaded: the GGUF file
// names llama.cpp's architecture and permutes Llama's q/k rows by the head counts, and the web export carries
// the base's weights. The checkpoint alone holds neither.
import type * as Ort from 'onnxruntime-web';
import type { GpuContext } from '../gpu/context.ts';
import { withDecoder } from '../generate/with-adapter.ts';
import { exportGgufLora } from '../io/gguf-lora.ts';
import { zipStore } from '../io/zip.ts';
import { exportOnnx } from '../onnx/llama.ts';
import { checkWebExport, engineTrace } from '../onnx/web-check.ts';
import { exportWebModel, WEB_MODEL_FILES } from '../onnx/web.ts';
import type { OpenedModel } from '../model/load.ts';
import type { Checkpoint } from '../train/checkpoint.ts';
import { checkpointAdapter, type AdapterDtype } from './exports.ts';
import type { LoadedModel } from './session.ts';
import type { AdapterFiles, ExportProgress, WebExport } from './types.ts';
import { webExportLimits } from './web-limits.ts';

/** onnxruntime-web, loaded only when a web export is checked (the worker points it at its wasm files). */
export type OrtLoader = () => Promise<typeof Ort>;

/** Tokens decoded after the prompt in the check: enough to exercise the KV cache over several steps. */
export const WEB_CHECK_STEPS = 6;
const CHECK_PROMPT = 'Translate this from German to English:\nGerman: Guten Morgen.\nEnglish:';

const stemOf = (c: Checkpoint) => (c.state.config.name || c.state.runId).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'adapter';

/** The run's checkpoint was trained on the model that is loaded (by name: the storage type may differ). */
export function requireRunModel(c: Checkpoint, m: LoadedModel | null, what: string): LoadedModel {
  const want = c.state.modelName;
  if (!m) throw new Error(`${what} needs the run's base model (${want}): load it on the Model screen first`);
  if (m.info.name !== want) throw new Error(`${what}: run ${c.state.runId} was trained on ${want}, but ${m.info.name} is loaded: load ${want} on the Model screen first`);
  return m;
}

/** `RUN-adapter.gguf`: general.type adapter, adapter.type lora, llama.cpp's tensor names (io/gguf-lora.ts). */
export function ggufFiles(c: Checkpoint, m: LoadedModel, dtype: AdapterDtype): AdapterFiles {
  const cfg = m.opened.cfg;
  const bytes = exportGgufLora(checkpointAdapter(c), { architectures: [cfg.architecture], num_attention_heads: cfg.H, num_key_value_heads: cfg.Hkv }, { dtype: dtype === 'f16' ? 'F16' : 'F32', name: c.state.config.name || undefined });
  return { files: [{ name: `${stemOf(c)}-adapter.gguf`, bytes }] };
}

/**
 * `opened` is the base's files opened again (the loaded model's were closed once its weights were on the GPU).
 * The web export as one zip (`RUN-web/onnx/model.onnx`, `onnx/model_quantized.onnx`, config, generation config,
 * tokenizer), after onnxruntime-web decoded WEB_CHECK_STEPS tokens with it and its logits matched the engine's.
 * The engine decodes with the base as it is loaded; for a quantized base the check runs on the same graph with
 * the base rounded that way (baseQuant), since the fp32 file would differ from the engine by the rounding alone.
 */
export async function webExport(ctx: GpuContext, m: LoadedModel, opened: OpenedModel, c: Checkpoint, ort: typeof Ort, onProgress?: ExportProgress): Promise<WebExport> {
  const limits = webExportLimits(m.info);
  if (limits.refuse) throw new Error(limits.refuse);
  const tokenizer = m.tokenizer;
  if (!tokenizer) throw new Error(`${m.info.name} has no tokenizer: the web export needs tokenizer.json`);
  const adapter = checkpointAdapter(c);
  const steps = 4;
  onProgress?.({ loaded: 0, total: steps, what: 'writing the ONNX files' });
  const files = await exportWebModel(opened, adapter, {});
  const quant = m.info.quant;
  onProgress?.({ loaded: 1, total: steps, what: 'decoding with the engine' });
  const promptIds = [...(tokenizer.bosId !== null ? [tokenizer.bosId] : []), ...tokenizer.encode(CHECK_PROMPT)];
  const cfg = c.state.config;
  const trace = await withDecoder(ctx, m.base, { r: cfg.r, alpha: cfg.alpha, targets: cfg.targets, useRslora: cfg.useRslora, tensors: c.tensors }, (dec) => engineTrace(dec, promptIds, WEB_CHECK_STEPS));
  onProgress?.({ loaded: 2, total: steps, what: 'running the export in onnxruntime-web' });
  const checked =
    quant === 'none'
      ? files.find((f) => f.name === WEB_MODEL_FILES.fp32)!.data
      : await exportOnnx(opened.cfg, opened.reader, adapter, { kvCache: true, mergeAdapter: true, baseQuant: quant });
  const result = await checkWebExport(ort, checked, promptIds, trace);
  const report = `max |logit difference| ${result.maxAbsDiff.toExponential(2)} (largest logit ${result.maxAbsLogit.toFixed(2)}), most likely token the same in ${result.argmaxAgree} of ${result.steps} steps`;
  if (!result.ok) throw new Error(`the web export does not decode as the engine does in onnxruntime-web (${report}); it is not offered for download`);
  onProgress?.({ loaded: 3, total: steps, what: 'zipping' });
  const folder = `${stemOf(c)}-web`;
  const zip = zipStore(files.map((f) => ({ name: `${folder}/${f.name}`, data: f.data })));
  onProgress?.({ loaded: steps, total: steps, what: 'done' });
  return {
    files: [{ name: `${folder}.zip`, bytes: zip }],
    check: { ...result, checked: quant === 'none' ? 'fp32 file' : `the same graph with the base as ${quant}`, prompt: CHECK_PROMPT },
    sizes: Object.fromEntries(files.map((f) => [f.name, f.data.byteLength])),
  };
}
