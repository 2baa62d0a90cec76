// A tiny model and a small learnable preference set for training tests.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuContext } from '../../src/gpu/context.ts';
import type { PairIds } from '../../src/model/batch.ts';
import { openModel } from '../../src/model/load.ts';
import { loadBaseModel, type BaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { Rng } from '../../src/util/rng.ts';
import { GOLDEN_DIR } from '../util/golden.ts';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');

/** The golden tiny Llama (C 64, 2 layers, V 512): small enough to train on SwiftShader in seconds. */
export async function goldenModel(ctx: GpuContext, quant: Quant = 'none'): Promise<{ cfg: ModelConfig; base: BaseModel; configJson: Record<string, unknown> }> {
  const opened = await openModel(nodeFiles(resolve(GOLDEN_DIR, 'model')));
  const base = await loadBaseModel(ctx, opened.cfg, opened.reader, quant).finally(() => opened.close());
  return { cfg: opened.cfg, base, configJson: opened.configJson };
}

/**
 * Pairs whose preference is learnable from the completion alone: chosen completions draw from one set of
 * tokens, rejected from another, after random prompts.
 */
export function learnablePairs(n: number, seed: number, V = 512): PairIds[] {
  const rng = new Rng(seed);
  const out: PairIds[] = [];
  for (let i = 0; i < n; i++) {
    const prompt = [1, ...Array.from({ length: 3 + rng.int(4) }, () => 10 + rng.int(V - 10))];
    const len = 3 + rng.int(3);
    out.push({
      promptIds: prompt,
      chosenIds: [...Array.from({ length: len }, () => 100 + rng.int(8)), 2],
      rejectedIds: [...Array.from({ length: len }, () => 300 + rng.int(8)), 2],
    });
  }
  return out;
}
