// The memory planner (src/train/memory-plan.ts) against what the engine allocates: the tiny demo model and a
// larger synthetic Qwen2-shaped model loaded, then one real training step (forward, backward, optimizer update),
// with ctx.peakBytes (every ctx.buffer's high-water mark) compared to the plan for that micro-batch's shape.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseScratch } from '../../src/kernels/scratch.ts';
import { makeTinyModelFiles } from '../../src/io/tiny-model.ts';
import { memorySource } from '../../src/io/source.ts';
import type { PairIds } from '../../src/model/batch.ts';
import { openModel, type FileProvider } from '../../src/model/load.ts';
import { createLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import type { Projection, Quant } from '../../src/model/projections.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { batchShape, planModel, planRun, planStep, worstCaseShape } from '../../src/train/memory-plan.ts';
import { LoraOptimizer } from '../../src/train/optimizer.ts';
import { layoutBatch, runMicroBatch } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { TINY } from '../util/tiny.ts';
import { gpu } from '../util/gpu.ts';

/** Pairs with prompts of `prompt` tokens and completions of `answer` (± a few), ids below V. */
function pairs(n: number, prompt: number, answer: number, V: number, seed: number): PairIds[] {
  const rng = new Rng(seed);
  const ids = (k: number) => Array.from({ length: k }, () => 3 + rng.int(V - 3));
  return Array.from({ length: n }, () => ({ promptIds: [1, ...ids(prompt - 1)], chosenIds: ids(answer - rng.int(4)), rejectedIds: ids(answer - rng.int(4)) }));
}

/** A synthetic Qwen2-shaped checkpoint (q/k/v biases, untied head) around the demo tokenizer, in memory. */
function syntheticProvider(): FileProvider {
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(TINY, f), 'utf8'));
  const files = makeTinyModelFiles({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') }, { hidden: 128, layers: 3, heads: 4, kvHeads: 2, intermediate: 352, arch: 'qwen2', tieEmbeddings: false, dtype: 'F32' });
  const bytes = (f: string) => {
    const v = files.get(f)!;
    return typeof v === 'string' ? new TextEncoder().encode(v) : v;
  };
  return { name: 'synthetic', files: () => [...files.keys()], open: async (f) => memorySource(bytes(f), f) };
}

interface Case {
  what: string;
  provider: () => FileProvider;
  /** Bytes per weight in its files (the quantization chunk at load). */
  sourceBytes: number;
  quant: Quant;
  lora: { r: number; targets: Projection[] | 'all-linear'; dropout: number };
  batch: { pairs: number; prompt: number; answer: number };
}

const CASES: Case[] = [
  { what: 'tiny demo model, q4_0, all-linear r 8, shared-prompt layout', provider: () => nodeFiles(TINY), sourceBytes: 2, quant: 'q4_0', lora: { r: 8, targets: 'all-linear', dropout: 0 }, batch: { pairs: 2, prompt: 20, answer: 40 } },
  { what: 'synthetic Qwen2 C 128, untied, q8_0, all-linear r 16 with dropout (two sequences per pair)', provider: syntheticProvider, sourceBytes: 4, quant: 'q8_0', lora: { r: 16, targets: 'all-linear', dropout: 0.1 }, batch: { pairs: 2, prompt: 24, answer: 40 } },
];

const measured: string[] = [];
afterAll(() => console.log(`memory plan vs ctx.peakBytes:\n  ${measured.join('\n  ')}`));

describe('memory plan (the engine planner the studio shows)', () => {
  for (const c of CASES) {
    it(`plans the load and one training step within 10% of the measured peak: ${c.what}`, async () => {
      // One device for the file (its pipelines compiled once); each case starts from nothing of its own on it
      // but what the last left behind (scratch a growing kernel replaced without freeing), so peaks are deltas.
      const ctx = await gpu();
      releaseScratch(ctx);
      const live = ctx.liveBytes;
      ctx.resetPeak();
      const opened = await openModel(c.provider());
      const base = await loadBaseModel(ctx, opened.cfg, opened.reader, c.quant).finally(() => opened.close());
      const loadPeak = ctx.peakBytes - live;
      const batch = pairs(c.batch.pairs, c.batch.prompt, c.batch.answer, opened.cfg.V, 5);
      const laid = layoutBatch(batch, c.lora.dropout > 0); // the layout runMicroBatch runs
      expect(!!laid.shared).toBe(c.lora.dropout === 0);
      const plan = planStep({ model: planModel(opened.cfg), quant: c.quant, shape: batchShape(laid), lora: c.lora, caps: ctx.caps, sourceBytesPerWeight: c.sourceBytes });

      ctx.resetPeak();
      const lora = createLora(ctx, opened.cfg, { ...c.lora, alpha: 16, useRslora: false }, 1);
      const tf = new Transformer(ctx, base, lora);
      const opt = new LoraOptimizer(ctx, lora);
      const norm = { pairs: batch.length, chosenTokens: batch.reduce((a, p) => a + p.chosenIds.length, 0) };
      await runMicroBatch(tf, batch, { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0.5 }, norm, { backward: true, accumulate: false, dropoutSeed: 3 });
      expect(Number.isFinite(await opt.gradNorm())).toBe(true);
      await opt.apply({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 }, 1e-4, 1);
      const stepPeak = ctx.peakBytes - live;
      measured.push(`${c.what}: load ${plan.loadPeakBytes} planned / ${loadPeak} measured; step ${plan.stepBytes} planned / ${stepPeak} measured; base ${plan.baseBytes} / ${base.bytes}`);

      expect(plan.loraParams).toBe(lora.params);
      expect(Math.abs(plan.baseBytes - base.bytes) / base.bytes).toBeLessThan(0.01);
      expect(Math.abs(plan.stepBytes - stepPeak) / stepPeak).toBeLessThan(0.1);
      expect(Math.abs(plan.loadPeakBytes - loadPeak) / loadPeak).toBeLessThan(0.1);
      // The run-settings plan (every sequence at max length) covers this batch.
      const run = planRun(planModel(opened.cfg), { quant: c.quant, batchSize: c.batch.pairs, maxLength: c.batch.prompt + c.batch.answer, ...c.lora }, ctx.caps);
      expect(run.peakBytes).toBeGreaterThanOrEqual(plan.stepBytes);
      opt.release();
      tf.release();
      releaseLora(ctx, lora);
      releaseBaseModel(ctx, base);
    }, 120_000);
  }

  it('prices the embedding and head at their own types, not the projections\' rate (q4_0 Qwen2.5-0.5B)', () => {
    const qwen = { L: 24, C: 896, F: 4864, H: 14, Hkv: 2, D: 64, V: 151936, tieEmbeddings: true, qkvBias: true };
    const p = planRun(qwen, { quant: 'q4_0', batchSize: 1, maxLength: 128, r: 8, targets: 'all-linear', dropout: 0 });
    // q4_0 projections, a q8_0 embedding (tied: the head is the same tensor), f32 norms, biases and RoPE table.
    const proj = 24 * (896 * 896 + 2 * 896 * 128 + 896 * 896 + 3 * 896 * 4864) * (18 / 32);
    const embed = 151936 * 896 * (34 / 32);
    const small = 24 * (2 * 896 + 896 + 2 * 128) * 4 + 896 * 4 + 32 * 4;
    expect(Math.abs(p.baseBytes - (proj + embed + small)) / p.baseBytes).toBeLessThan(1e-3);
    // PEFT counts r·(in + out) per adapted projection: 8·(2·(896+896) + 2·(896+128) + 3·(896+4864)) per layer, 24 layers.
    expect(p.loraParams).toBe(24 * 8 * (2 * (896 + 896) + 2 * (896 + 128) + 3 * (896 + 4864)));
    // The q8_0 embedding (145 MB) is split into parts of at most one 128 MiB binding.
    expect(p.largestBuffer.bytes).toBeLessThanOrEqual(128 << 20);
    expect(p.largestBuffer.what).toBe('embedding');
    expect(worstCaseShape(2, 64)).toEqual({ nSeq: 4, T: 64, S: 4 * 63 });
    // Shared-prompt rows: a one-token prompt leaves two whole sequences in a row.
    expect(worstCaseShape(2, 64, true)).toEqual({ nSeq: 2, T: 128, S: 4 * 63, shared: true });
  });
});
