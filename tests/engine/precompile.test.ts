// ctx.precompile(modelStepPipelines(...)) creates every pipeline a real step then uses: after it, a training step
// (forward, backward with LoRA dropout, the optimizer update) and a log-probs pass on each family (the golden tiny
// Llama, golden-hf's Qwen3 with q/k norms and Gemma 3 with GeGLU, sliding windows and sandwich norms) compile
// nothing new. Run with the device's own choices and with the GPU variants forced (kernelEnv.device 'gpu').
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GpuContext } from '../../src/gpu/context.ts';
import { shaderKey } from '../../src/gpu/wgsl.ts';
import { modelStepPipelines, pairsPlan, precompileModel } from '../../src/engine/precompile.ts';
import { resetKernelEnv, kernelEnv } from '../../src/kernels/env.ts';
import { openModel } from '../../src/model/load.ts';
import { createLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { LoraOptimizer } from '../../src/train/optimizer.ts';
import { runMicroBatch } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { GOLDEN_DIR } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';

const HF = resolve(import.meta.dirname, '../../../shared/golden-hf');
const MODELS = { llama: resolve(GOLDEN_DIR, 'model'), qwen3: resolve(HF, 'qwen3/model'), gemma3: resolve(HF, 'gemma3/model') };

afterEach(() => resetKernelEnv());

async function check(dir: string, quant: Quant, device: 'auto' | 'gpu'): Promise<void> {
  kernelEnv.device = device;
  const ctx = await gpu();
  const opened = await openModel(nodeFiles(dir));
  const cfg = opened.cfg;
  const base = await loadBaseModel(ctx, cfg, opened.reader, quant);
  await opened.close();
  const lora = createLora(ctx, cfg, { r: 4, alpha: 8, dropout: 0.1, targets: 'all-linear', useRslora: false }, 1);
  const tf = new Transformer(ctx, base, lora);
  const opt = new LoraOptimizer(ctx, lora);
  try {
    // Unequal lengths, longer than Gemma's window of 8: padding and windows are both exercised.
    const rng = new Rng(3);
    const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(cfg.V - 3));
    const pairs = [0, 1, 2].map((i) => ({ promptIds: ids(9 + i), chosenIds: ids(5 + 2 * i), rejectedIds: ids(7 - i) }));
    const lora4 = { r: 4, targets: lora.targets, dropout: 0.1 };
    // Dropout takes two sequences per pair; without it (the log-probs pass) the prompt runs once per pair.
    const train = pairsPlan(pairs, lora4, true);
    const score = pairsPlan(pairs, { ...lora4, dropout: 0 }, false);
    const trainShared = pairsPlan(pairs, { ...lora4, dropout: 0 }, true);
    expect(score.dims.shared).toBe(true);
    expect(train.dims.shared).toBe(false);
    const planned = modelStepPipelines(ctx, cfg, quant, train).length;
    expect(planned).toBeGreaterThan(10);
    expect(await precompileModel(ctx, cfg, quant, [train, score, trainShared])).toBeGreaterThanOrEqual(planned);
    const before = new Set(ctx.pipelineIds);
    // Every pipeline the steps ask for, whether an earlier test left it cached or not, must have been planned.
    const plannedIds = new Set([train, score, trainShared].flatMap((p) => modelStepPipelines(ctx, cfg, quant, p)).map((p) => `${shaderKey(p.shader.name, p.defines)}#${p.entryPoint ?? 'main'}`));
    const used = new Set<string>();
    const spy = vi.spyOn(ctx, 'compile').mockImplementation(function (this: GpuContext, shader, defines, entryPoint = 'main') {
      used.add(`${shaderKey(shader.name, defines)}#${entryPoint}`);
      return GpuContext.prototype.compile.call(this, shader, defines, entryPoint);
    });
    const loss = { loss: 'sigmoid' as const, beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 };
    const counts = { pairs: pairs.length, chosenTokens: pairs.reduce((a, p) => a + p.chosenIds.length, 0) };
    const res = await runMicroBatch(tf, pairs, loss, counts, { backward: true, accumulate: false, dropoutSeed: 5 });
    expect(Number.isFinite(res.loss.loss)).toBe(true);
    await opt.gradNorm();
    await opt.apply({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 }, 1e-4, 1);
    await runMicroBatch(tf, pairs, loss, counts, { backward: false, accumulate: false, dropoutSeed: null });
    await runMicroBatch(tf, pairs, loss, counts, { backward: true, accumulate: false, dropoutSeed: null });
    spy.mockRestore();
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((id) => !plannedIds.has(id))).toEqual([]);
    expect(ctx.pipelineIds.filter((id) => !before.has(id))).toEqual([]);
  } finally {
    opt.release();
    tf.release();
    releaseLora(ctx, lora);
    releaseBaseModel(ctx, base);
  }
}

describe('precompile covers a real step', () => {
  for (const [family, dir] of Object.entries(MODELS)) {
    it(`${family}, q4_0, the device's own variants`, () => check(dir, 'q4_0', 'auto'), 600_000);
  }
  it('gemma3, f32, the GPU variants forced', () => check(MODELS.gemma3, 'none', 'gpu'), 600_000);
});
