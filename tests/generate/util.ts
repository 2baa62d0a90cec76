// The golden tiny Llama and its adapter for generation tests, and the training forward as a reference.
import type { GpuContext } from '../../src/gpu/context.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { layoutPairs } from '../../src/model/batch.ts';
import { createLora, type Lora } from '../../src/model/lora.ts';
import type { BaseModel } from '../../src/model/model.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { goldenAdapter as goldenAdapterFile } from '../util/golden.ts';

export async function goldenAdapter(ctx: GpuContext, cfg: ModelConfig, configJson: Record<string, unknown>): Promise<Lora> {
  const { config, init } = adapterInit(await goldenAdapterFile(configJson));
  return createLora(ctx, cfg, { ...config, dropout: 0 }, 0, init);
}

/** Σ log p(completion | prompt) from the training forward (checked against PyTorch by tests/model/golden.test.ts). */
export async function forwardLogp(ctx: GpuContext, base: BaseModel, lora: Lora | null, prompt: number[], completion: number[], useLora: boolean): Promise<number> {
  const tf = new Transformer(ctx, base, lora);
  try {
    const batch = layoutPairs([{ promptIds: prompt, chosenIds: completion, rejectedIds: completion }], 0, 'chosen');
    return (await tf.forward(batch, { useLora, dropoutSeed: null }, false)).seqLogp[0];
  } finally {
    tf.release();
  }
}
