// One-call decoding for the engine (engine/local.ts): an adapter from a run checkpoint (or none), a decoder over
// the loaded base, ALMA translation or any other use of it, everything released afterwards.
import type { GpuContext } from '../gpu/context.ts';
import { createLora, releaseLora } from '../model/lora.ts';
import type { BaseModel } from '../model/model.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import { loraSettings, type RunConfig } from '../train/config.ts';
import { Decoder } from './decoder.ts';
import { translate, type TranslateOptions } from './translate.ts';

/** A LoRA as a checkpoint holds it: the run's LoRA fields and PEFT-named lora_A/lora_B tensors (extra tensors, e.g. moments, ignored). */
export interface StoredAdapter extends Pick<RunConfig, 'r' | 'alpha' | 'targets' | 'useRslora'> {
  tensors: Map<string, Float32Array>;
}

export async function translateWithAdapter(
  ctx: GpuContext,
  base: BaseModel,
  tokenizer: TextTokenizer,
  adapter: StoredAdapter | null,
  sources: string[],
  opts: TranslateOptions,
): Promise<string[]> {
  return withDecoder(ctx, base, adapter, (dec, hasLora) => translate(dec, tokenizer, sources, { ...opts, useLora: hasLora }));
}

/** Runs fn with a decoder over the base and the adapter (if any); both are released afterwards. */
export async function withDecoder<T>(ctx: GpuContext, base: BaseModel, adapter: StoredAdapter | null, fn: (dec: Decoder, hasLora: boolean) => Promise<T>): Promise<T> {
  const lora = adapter ? createLora(ctx, base.cfg, loraSettings(adapter), 0, adapter.tensors) : null;
  const dec = new Decoder(ctx, base, lora);
  try {
    return await fn(dec, !!lora);
  } finally {
    dec.release();
    if (lora) releaseLora(ctx, lora);
  }
}
