// Shapes of the models people are likely to pick, so memory can be estimated before anything downloads.
// Dimensions are copied from each model's config.json.

export interface ModelDims {
  L: number; // layers
  C: number; // hidden size
  F: number; // intermediate (FFN) size
  H: number; // attention heads
  Hkv: number; // key/value heads
  D: number; // head dim
  V: number; // vocab
  tied: boolean; // lm_head shares the embedding
}

export interface CatalogModel {
  id: string; // the Hub id, or 'demo'
  label: string;
  dims: ModelDims;
}

export const MODEL_CATALOG: CatalogModel[] = [
  { id: 'demo', label: 'Tiny demo model', dims: { L: 2, C: 32, F: 64, H: 4, Hkv: 2, D: 8, V: 32000, tied: true } },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', dims: { L: 24, C: 896, F: 4864, H: 14, Hkv: 2, D: 64, V: 151936, tied: true } },
  { id: 'Qwen/Qwen2.5-1.5B-Instruct', label: 'Qwen2.5 1.5B Instruct', dims: { L: 28, C: 1536, F: 8960, H: 12, Hkv: 2, D: 128, V: 151936, tied: true } },
  { id: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', label: 'TinyLlama 1.1B Chat', dims: { L: 22, C: 2048, F: 5632, H: 32, Hkv: 4, D: 64, V: 32000, tied: false } },
  { id: 'haoranxu/ALMA-7B', label: 'ALMA 7B (Llama-2 7B)', dims: { L: 32, C: 4096, F: 11008, H: 32, Hkv: 32, D: 128, V: 32000, tied: false } },
  { id: 'haoranxu/ALMA-13B', label: 'ALMA 13B (Llama-2 13B)', dims: { L: 40, C: 5120, F: 13824, H: 40, Hkv: 40, D: 128, V: 32000, tied: false } },
];

export function catalogModel(id: string): CatalogModel | undefined {
  return MODEL_CATALOG.find((m) => m.id === id);
}

/** Dims from a loaded model's info; an engine that does not report the FFN size gets Llama's 8/3·C rounded to 256. */
export function dimsFromInfo(info: { layers: number; hidden: number; heads: number; kvHeads: number; vocab: number; intermediate?: number; headDim?: number; tiedEmbeddings?: boolean }): ModelDims {
  const C = info.hidden;
  const F = info.intermediate ?? Math.ceil((8 * C) / 3 / 256) * 256;
  return { L: info.layers, C, F, H: info.heads, Hkv: info.kvHeads, D: info.headDim ?? Math.round(C / info.heads), V: info.vocab, tied: info.tiedEmbeddings ?? false };
}
