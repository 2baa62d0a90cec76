// ../shared/golden: a tiny Llama, a PEFT adapter, and PyTorch's float64 results for them (see its README).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importPeftAdapter, type LoraAdapter } from '../../src/io/peft.ts';
import type { Transformer } from '../../src/model/transformer.ts';
import type { PairIds } from '../../src/model/batch.ts';
import { runMicroBatch } from '../../src/train/step.ts';

export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/golden');

export interface GoldenCase {
  quant: 'none' | 'q8_0' | 'q4_0' | 'f16';
  loss: 'sigmoid' | 'hinge' | 'ipo' | 'simpo';
  beta: number;
  cpo_alpha: number;
  simpo_gamma: number | null;
  label_smoothing: number;
  chosen_logps: number[];
  rejected_logps: number[];
  loss_value: number;
  grads: string;
}

export interface Golden {
  examples: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
  cases: GoldenCase[];
}

export function golden(): Golden {
  if (!existsSync(GOLDEN_DIR)) throw new Error(`golden reference data not found at ${GOLDEN_DIR} (shared/golden beside the repository)`);
  return JSON.parse(readFileSync(resolve(GOLDEN_DIR, 'golden.json'), 'utf8')) as Golden;
}

/** The golden PEFT adapter, checked against the model's config. */
export async function goldenAdapter(configJson: Record<string, unknown>): Promise<LoraAdapter> {
  const dir = resolve(GOLDEN_DIR, 'adapter');
  return importPeftAdapter(
    { config: readFileSync(resolve(dir, 'adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(dir, 'adapter_model.safetensors'))) },
    configJson as never,
  );
}

/** One golden case's step: forward and backward over all its pairs as one micro-batch, no dropout. */
export function goldenStep(tf: Transformer, pairs: PairIds[], c: GoldenCase): ReturnType<typeof runMicroBatch> {
  const chosenTokens = pairs.reduce((a, p) => a + p.chosenIds.length, 0);
  return runMicroBatch(
    tf,
    pairs,
    { loss: c.loss, beta: c.beta, cpoAlpha: c.cpo_alpha, labelSmoothing: c.label_smoothing, simpoGamma: c.simpo_gamma ?? 0 },
    { pairs: pairs.length, chosenTokens },
    { backward: true, accumulate: false, dropoutSeed: null },
  );
}
