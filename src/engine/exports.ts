// A run's checkpoint as files other tools read, without a GPU: the PEFT adapter (a folder's two files, or one
// zip) and the TRL recipe. The studio zips them for download; the CLI writes them into its output folder.
// Both go through here, so they produce the same bytes from the same checkpoint.
import type { PreferenceRow } from '../data/types.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, exportPeftAdapter, type LoraAdapter } from '../io/peft.ts';
import { zipStore } from '../io/zip.ts';
import { adapterFromTensors } from '../model/adapter.ts';
import type { Checkpoint, RunState } from '../train/checkpoint.ts';
import { buildRecipe } from '../train/recipe.ts';
import type { AdapterFiles } from './types.ts';

export type AdapterDtype = 'f32' | 'f16';
export const ADAPTER_DTYPES: readonly AdapterDtype[] = ['f32', 'f16'];

/** The checkpoint's LoRA as the io layer's adapter (PEFT, GGUF and ONNX exports start from it). */
export function checkpointAdapter(c: Checkpoint): LoraAdapter {
  const cfg = c.state.config;
  return adapterFromTensors(c.tensors, { r: cfg.r, alpha: cfg.alpha, dropout: cfg.dropout, useRslora: cfg.useRslora, baseModel: c.state.modelName });
}

/** adapter_config.json and adapter_model.safetensors of the checkpoint's LoRA, as PEFT saves them. */
export function adapterFiles(c: Checkpoint, dtype: AdapterDtype): AdapterFiles {
  const adapter = checkpointAdapter(c);
  const exported = exportPeftAdapter(adapter, { dtype: dtype === 'f16' ? 'F16' : 'F32' });
  return { files: [{ name: ADAPTER_CONFIG, bytes: new TextEncoder().encode(exported.config) }, { name: ADAPTER_WEIGHTS, bytes: exported.weights }] };
}

/** The files of a folder export as one STORE zip, each under `prefix/`. */
export function zipFiles(name: string, files: AdapterFiles, prefix = ''): AdapterFiles {
  return { files: [{ name, bytes: zipStore(files.files.map((f) => ({ name: `${prefix}${f.name}`, data: f.bytes }))) }] };
}

/** The run as a Hugging Face TRL recipe: its split as TRL rows, CPOConfig and LoraConfig as JSON, the script. */
export function recipeFiles(s: RunState, train: PreferenceRow[], evaluation: PreferenceRow[]): AdapterFiles {
  const enc = new TextEncoder();
  return { files: buildRecipe(s.config, s.modelName, train, evaluation).map((f) => ({ name: f.name, bytes: enc.encode(f.text) })) };
}
