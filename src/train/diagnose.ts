// Where a non-finite step came from. A skipped step says only "the loss or gradient was NaN"; at the first
// one, the micro-batches are run forward again and the residual stream is read after every layer, so the
// message names the layer (or the embedding, the head, the loss, the backward pass) where it appeared.
import type { PairIds } from '../model/batch.ts';
import { loraModules, type Lora } from '../model/lora.ts';
import type { Transformer } from '../model/transformer.ts';
import type { GpuContext } from '../gpu/context.ts';
import { layoutGroups } from './step.ts';

const finite = (a: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
};

/** One sentence naming where the first non-finite value appears for these micro-batches. */
export async function locateNonFinite(ctx: GpuContext, tf: Transformer, lora: Lora, micro: { pairs: PairIds[]; dropoutSeed: number }[], loss: number): Promise<string> {
  const L = tf.model.cfg.L;
  for (const m of micro) {
    // The groups and layouts the step ran, with their dropout masks (the residual rows hold whatever a layout puts
    // there, padding included).
    for (const g of layoutGroups(m.pairs, m.dropoutSeed, !!lora.cfg.dropout)) {
      const fwd = await tf.forward(g.batch, { useLora: true, dropoutSeed: g.dropoutSeed }, false);
      const acts = await tf.residuals();
      if (!finite(acts[0])) return 'it appeared in the embedding (model.embed_tokens.weight) for this batch\'s tokens';
      for (let l = 0; l < L; l++) {
        if (!finite(acts[l + 1])) return `it appeared in layer ${l} (model.layers.${l}): its input was finite, its output is not`;
      }
      if (!finite(fwd.seqLogp)) return 'it appeared after the last layer, in the final norm or the output head (model.norm.weight, lm_head.weight)';
    }
  }
  if (!Number.isFinite(loss)) return 'the log-probs are finite, the loss is not (a log-prob margin beyond the loss\'s range: lower beta or the learning rate)';
  // Forward clean, loss clean: the gradients. Backward runs from the last layer down, so the highest layer
  // with a non-finite LoRA gradient is where it appeared.
  for (const mod of [...loraModules(lora)].sort((a, b) => b.layer - a.layer)) {
    const [dA, dB] = await Promise.all([ctx.readF32(mod.dA, lora.R * mod.K), ctx.readF32(mod.dB, mod.N * lora.R)]);
    if (!finite(dA) || !finite(dB)) return `the forward pass is finite; the gradients first turn non-finite in layer ${mod.layer} (${mod.proj}) in the backward pass`;
  }
  return 'the forward pass and the gradients read back finite: the non-finite value came from the gradient norm (an overflow of the sum of squares)';
}
