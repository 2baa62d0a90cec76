// Transformer.backward right after its forward starts from the last layer's activations that forward left in the
// layer buffers, and recomputes only the layers below; a second backward recomputes every layer. Both give the
// same gradients to the bit, on each family's layer (the golden Llama, golden-hf's Qwen3 with q/k norms and
// Gemma 3 with sandwich norms and sliding windows), with LoRA dropout on (its masks are drawn again in a recompute).
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { loraModules, readLora } from '../../src/model/lora.ts';
import type { Transformer } from '../../src/model/transformer.ts';
import { layoutBatch } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { GOLDEN_DIR } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';
import { trainable } from '../util/trainable.ts';

const HF = resolve(import.meta.dirname, '../../../shared/golden-hf');
const MODELS = { llama: resolve(GOLDEN_DIR, 'model'), qwen3: resolve(HF, 'qwen3/model'), gemma3: resolve(HF, 'gemma3/model') };

/** Runs a backward profiled: the gradients it left, and how many attention forwards (layer recomputes) it ran. */
async function profiledBackward(ctx: GpuContext, tf: Transformer, dSeq: Float64Array) {
  const profiler = ctx.profile();
  try {
    await tf.backward(dSeq, false);
  } finally {
    ctx.profiler = null;
  }
  const recomputes = profiler.entries().filter((e) => e.kernel.startsWith('attention_fwd')).reduce((a, e) => a + e.dispatches, 0);
  return { grads: await readLora(ctx, tf.lora!, 'grads'), recomputes };
}

it.each(Object.entries(MODELS))('%s: backward after its forward skips the last layer\'s recompute, with the same gradients', async (_family, dir) => {
  const ctx = await gpu();
  const m = await trainable(ctx, dir, 'q8_0', { r: 4, alpha: 8, dropout: 0.1, targets: 'all-linear', useRslora: false });
  const { cfg, lora, tf } = m;
  try {
    const rng = new Rng(11);
    // B starts at zero (PEFT's init), which would leave every lora_A gradient zero: random B instead.
    for (const mod of loraModules(lora)) ctx.write(mod.B, Float32Array.from({ length: mod.N * lora.R }, () => rng.uniform(-0.2, 0.2)));
    const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(cfg.V - 3));
    // Unequal lengths, longer than Gemma's window of 8.
    const pairs = [0, 1, 2].map((i) => ({ promptIds: ids(9 + i), chosenIds: ids(5 + 2 * i), rejectedIds: ids(7 - i) }));
    const batch = layoutBatch(pairs, true);
    const dSeq = Float64Array.from({ length: batch.nSeq }, () => rng.uniform(-1, 1));
    await tf.forward(batch, { useLora: true, dropoutSeed: 5 }, true);
    const first = await profiledBackward(ctx, tf, dSeq);
    const again = await profiledBackward(ctx, tf, dSeq);
    expect([first.recomputes, again.recomputes]).toEqual([cfg.L - 1, cfg.L]);
    expect(cfg.L).toBeGreaterThan(1);
    let nonzero = 0;
    for (const [name, g] of again.grads) {
      expect(first.grads.get(name), name).toEqual(g);
      if (g.some((x) => x !== 0)) nonzero++;
    }
    expect(nonzero).toBe(again.grads.size);
    // A forward that will not be backpropagated (a reference or eval pass) leaves nothing to backpropagate.
    await tf.forward(batch, { useLora: false, dropoutSeed: null }, false);
    await expect(tf.backward(dSeq, false)).rejects.toThrow(/willBackward=true\) last/);
  } finally {
    m.release();
  }
}, 300_000);
