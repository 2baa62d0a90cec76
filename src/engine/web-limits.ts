// What the web export of a model costs, from its shape alone, so the Runs screen can say so before anything is
// computed, and the engine refuses before building a graph that cannot be written.
//   - One ONNX file is one protobuf message, which cannot exceed 2 GiB; the exporter writes no external data, so
//     the fp32 weights must stay under that (Qwen2.5-0.5B: 494M parameters, 1.84 GiB, just fits).
//   - The tab holds the fp32 file, the int8 file (~0.27× fp32), the zip of both (the same again) and, for a
//     quantized base, a second fp32 graph for the check: about 3.5× the fp32 file at the peak, inside the
//     worker, and onnxruntime-web's wasm32 heap (4 GiB at most) holds the checked model once more.
import type { ModelInfo } from './types.ts';

export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;
/** Peak bytes in the worker per fp32 byte (see above). */
export const WEB_EXPORT_PEAK_FACTOR = 3.5;

/** Parameters of the model's weight matrices (norms and biases are a rounding error). */
export function modelParams(info: Pick<ModelInfo, 'vocab' | 'hidden' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'intermediate' | 'tiedEmbeddings'>): number {
  const C = info.hidden;
  const D = info.headDim ?? C / info.heads;
  const F = info.intermediate ?? 4 * C;
  const attention = C * info.heads * D * 2 + C * info.kvHeads * D * 2;
  const mlp = 3 * C * F;
  return info.vocab * C * (info.tiedEmbeddings === false ? 2 : 1) + info.layers * (attention + mlp);
}

export interface WebExportLimits {
  /** onnx/model.onnx, about. */
  fp32Bytes: number;
  /** Memory the export takes in the tab at its peak, about. */
  peakBytes: number;
  /** Set when the export cannot be written: why, in words. */
  refuse?: string;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

export function webExportLimits(info: Parameters<typeof modelParams>[0] & { name: string }): WebExportLimits {
  const fp32Bytes = 4 * modelParams(info);
  const peakBytes = WEB_EXPORT_PEAK_FACTOR * fp32Bytes;
  const refuse =
    fp32Bytes > PROTOBUF_LIMIT_BYTES
      ? `${info.name} takes about ${gib(fp32Bytes)} as fp32, over the 2 GiB an ONNX file can hold without external data (which this export does not write); the web export is for models up to about 500M parameters. Use the GGUF or PEFT download for this one.`
      : undefined;
  return { fp32Bytes, peakBytes, refuse };
}
