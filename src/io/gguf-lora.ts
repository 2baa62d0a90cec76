// A LoRA adapter as llama.cpp's convert_lora_to_gguf.py writes it, for `llama-cli --lora`, llama-server and
// Ollama's `ADAPTER` line: general.type "adapter", adapter.type "lora", adapter.lora.alpha (f32), and per
// adapted projection two tensors named after the base tensor, `blk.N.attn_q.weight.lora_a` / `.lora_b`.
//
// Layouts, as llama-adapter.cpp checks them (ggml order, ne[0] contiguous): base W ne = [in, out];
// lora_a ne = [in, R] (PEFT's A, (R, in) row-major, written as is); lora_b ne = [R, out] (PEFT's B, (out, R)).
// convert_hf_to_gguf permutes the rows of Llama-family q_proj / k_proj for ggml's interleaved RoPE; a LoRA
// delta B·A must land on the same rows, so B's rows get that permutation too (A, on the input side, does not).
// llama.cpp scales a LoRA by alpha / R; an rsLoRA adapter (alpha / √R) is written with alpha·√R so that the
// product is the same.
import { f32ToF16Bits } from '../util/f16.ts';
import { GgmlType, GgufValueType, hfToGgufName, permuteRows } from './gguf.ts';
import { writeGguf, type GgufEntry, type GgufTensorToWrite } from './gguf-writer.ts';
import { peftTensorName, type LoraAdapter } from './peft.ts';

/**
 * convert_hf_to_gguf's architecture names for the Hugging Face classes this engine trains, and whether its
 * model class permutes Q/K rows (LlamaModel does; Qwen2, Qwen3 and Gemma 3 keep Hugging Face's order).
 */
const GGUF_ARCH: Record<string, { arch: string; permuteQK: boolean }> = {
  LlamaForCausalLM: { arch: 'llama', permuteQK: true },
  MistralForCausalLM: { arch: 'llama', permuteQK: true },
  Qwen2ForCausalLM: { arch: 'qwen2', permuteQK: false },
  Qwen3ForCausalLM: { arch: 'qwen3', permuteQK: false },
  Gemma3ForCausalLM: { arch: 'gemma3', permuteQK: false },
};

export interface GgufLoraOptions {
  /** Tensor type: F32 (convert_lora_to_gguf's default --outtype) or F16. */
  dtype?: 'F32' | 'F16';
  /** general.name (default: the adapter's base model). */
  name?: string;
}

/** The base model's config.json fields the file depends on. */
export interface GgufLoraBase {
  architectures?: unknown;
  num_attention_heads?: unknown;
  num_key_value_heads?: unknown;
}

/** convert_lora_to_gguf.py's get_base_tensor_name, then the Hugging Face → llama.cpp tensor name. */
export function ggufLoraBaseName(layer: number, module: Parameters<typeof peftTensorName>[1]): string {
  const hf = peftTensorName(layer, module, 'A').replace('base_model.model.', '').replace('.lora_A.weight', '.weight');
  const name = hfToGgufName(hf);
  if (!name) throw new Error(`GGUF LoRA: ${hf} has no llama.cpp tensor name`);
  return name;
}

function archOf(base: GgufLoraBase): { arch: string; permuteQK: boolean; H: number; Hkv: number } {
  const cls = Array.isArray(base.architectures) ? base.architectures[0] : undefined;
  const a = typeof cls === 'string' ? GGUF_ARCH[cls] : undefined;
  if (!a) throw new Error(`GGUF LoRA: config.json architectures: ${JSON.stringify(cls)} has no llama.cpp mapping here (supported: ${Object.keys(GGUF_ARCH).join(', ')})`);
  const H = Number(base.num_attention_heads);
  const Hkv = base.num_key_value_heads === undefined ? H : Number(base.num_key_value_heads);
  if (a.permuteQK && !(Number.isInteger(H) && H > 0 && Number.isInteger(Hkv) && Hkv > 0)) {
    throw new Error(`GGUF LoRA: config.json num_attention_heads / num_key_value_heads (${String(base.num_attention_heads)} / ${String(base.num_key_value_heads)}) are needed for the Q/K row order`);
  }
  return { ...a, H, Hkv };
}

/** The adapter as one .gguf file that llama.cpp loads next to its base model's GGUF. */
export function exportGgufLora(adapter: LoraAdapter, base: GgufLoraBase, opts: GgufLoraOptions = {}): Uint8Array {
  const { arch, permuteQK, H, Hkv } = archOf(base);
  const dtype = opts.dtype ?? 'F32';
  const { r, alpha, useRslora } = adapter.settings;
  const encode = (x: Float32Array): Uint8Array => {
    const typed = dtype === 'F32' ? x : Uint16Array.from(x, f32ToF16Bits);
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  };
  const tensors: GgufTensorToWrite[] = [];
  const type = dtype === 'F32' ? GgmlType.F32 : GgmlType.F16;
  for (const p of adapter.pairs) {
    if (p.A.length !== r * p.inFeatures || p.B.length !== p.outFeatures * r) {
      throw new Error(`GGUF LoRA: layer ${p.layer} ${p.module}: A has ${p.A.length} values, B ${p.B.length}; expected ${r}x${p.inFeatures} and ${p.outFeatures}x${r}`);
    }
    const name = ggufLoraBaseName(p.layer, p.module);
    let b = encode(p.B); // (out, R)
    if (permuteQK && (p.module === 'q_proj' || p.module === 'k_proj')) b = permuteRows(b, p.outFeatures, p.module === 'q_proj' ? H : Hkv);
    tensors.push({ name: `${name}.lora_a`, type, dims: [p.inFeatures, r], data: encode(p.A) });
    tensors.push({ name: `${name}.lora_b`, type, dims: [r, p.outFeatures], data: b });
  }
  const entries: GgufEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: arch },
    { key: 'general.type', type: GgufValueType.STRING, value: 'adapter' },
    { key: 'general.name', type: GgufValueType.STRING, value: opts.name ?? (adapter.settings.baseModel || 'adapter') },
    { key: 'general.file_type', type: GgufValueType.UINT32, value: dtype === 'F32' ? 0 : 1 }, // LlamaFileType ALL_F32 / MOSTLY_F16
    { key: 'general.quantization_version', type: GgufValueType.UINT32, value: 2 },
    { key: 'adapter.type', type: GgufValueType.STRING, value: 'lora' },
    { key: 'adapter.lora.alpha', type: GgufValueType.FLOAT32, value: useRslora ? alpha * Math.sqrt(r) : alpha },
  ];
  return writeGguf(entries, tensors);
}
