// Shapes of the models people are likely to pick, so memory can be planned before anything downloads.
// Dimensions are copied from each model's config.json, in the engine planner's terms (train/memory-plan.ts).
import type { PlanModel } from '../../train/memory-plan.ts';

export interface CatalogModel {
  id: string; // the Hub id, or 'demo'
  label: string;
  dims: PlanModel;
}

export const MODEL_CATALOG: CatalogModel[] = [
  { id: 'demo', label: 'Tiny demo model', dims: { L: 2, C: 32, F: 64, H: 4, Hkv: 2, D: 8, V: 32000, tieEmbeddings: true, qkvBias: false } },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', dims: { L: 24, C: 896, F: 4864, H: 14, Hkv: 2, D: 64, V: 151936, tieEmbeddings: true, qkvBias: true } },
  { id: 'Qwen/Qwen2.5-1.5B-Instruct', label: 'Qwen2.5 1.5B Instruct', dims: { L: 28, C: 1536, F: 8960, H: 12, Hkv: 2, D: 128, V: 151936, tieEmbeddings: true, qkvBias: true } },
  { id: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', label: 'TinyLlama 1.1B Chat', dims: { L: 22, C: 2048, F: 5632, H: 32, Hkv: 4, D: 64, V: 32000, tieEmbeddings: false, qkvBias: false } },
  { id: 'haoranxu/ALMA-7B', label: 'ALMA 7B (Llama-2 7B)', dims: { L: 32, C: 4096, F: 11008, H: 32, Hkv: 32, D: 128, V: 32000, tieEmbeddings: false, qkvBias: false } },
  { id: 'haoranxu/ALMA-13B', label: 'ALMA 13B (Llama-2 13B)', dims: { L: 40, C: 5120, F: 13824, H: 40, Hkv: 40, D: 128, V: 32000, tieEmbeddings: false, qkvBias: false } },
];

export function catalogModel(id: string): CatalogModel | undefined {
  return MODEL_CATALOG.find((m) => m.id === id);
}
