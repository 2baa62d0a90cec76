// A model folder's weights on the GPU with a fresh LoRA and a Transformer over both: what a test of training steps
// starts from.
import type { GpuContext } from '../../src/gpu/context.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { openModel } from '../../src/model/load.ts';
import { createLora, releaseLora, type Lora, type LoraConfig } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { Transformer } from '../../src/model/transformer.ts';

export interface Trainable {
  cfg: ModelConfig;
  lora: Lora;
  tf: Transformer;
  release(): void;
}

export async function trainable(ctx: GpuContext, dir: string, quant: Quant, lora: LoraConfig): Promise<Trainable> {
  const opened = await openModel(nodeFiles(dir));
  const base = await loadBaseModel(ctx, opened.cfg, opened.reader, quant).finally(() => opened.close());
  const l = createLora(ctx, opened.cfg, lora, 1);
  const tf = new Transformer(ctx, base, l);
  return {
    cfg: opened.cfg,
    lora: l,
    tf,
    release: () => {
      tf.release();
      releaseLora(ctx, l);
      releaseBaseModel(ctx, base);
    },
  };
}
