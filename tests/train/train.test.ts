// The training loop on the golden tiny Llama: it learns, accumulation equals one big batch,
// and a checkpoint + resume continues bit-exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig, RunEvent, StepMetrics } from '../../src/engine/types.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { exportLora } from '../../src/model/adapter.ts';
import { createLora, readLora, releaseLora, type Lora } from '../../src/model/lora.ts';
import { releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { Transformer } from '../../src/model/transformer.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import type { PairIds } from '../../src/model/batch.ts';
import { importPeftAdapter } from '../../src/io/peft.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { TrainingRun, type BatchSource } from '../../src/train/run.ts';
import { runMicroBatch } from '../../src/train/step.ts';
import { expectClose } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';
import { goldenModel, learnablePairs } from './util.ts';

/** Cycles through fixed micro-batches; the cursor is the position. */
function cycle(pairs: PairIds[], batch: number): BatchSource {
  let pos = 0;
  const n = Math.ceil(pairs.length / batch);
  return {
    next: () => {
      const i = pos++ % n;
      return pairs.slice(i * batch, (i + 1) * batch);
    },
    epoch: () => pos / n,
    cursor: () => pos,
    restore: (c) => {
      pos = c as number;
    },
    batchesPerEpoch: () => n,
  };
}

describe('training runs', () => {
  let ctx: GpuContext;
  let cfg: ModelConfig;
  let base: BaseModel;
  let configJson: Record<string, unknown>;
  let dir: string;
  beforeAll(async () => {
    ctx = await gpu();
    ({ cfg, base, configJson } = await goldenModel(ctx));
    dir = mkdtempSync(join(tmpdir(), 'cpo-train-'));
  });
  afterAll(() => {
    releaseBaseModel(ctx, base);
    rmSync(dir, { recursive: true, force: true });
  });

  const runCfg = (o: Partial<RunConfig>): RunConfig =>
    presetConfig('quick', { r: 4, alpha: 8, dropout: 0, lr: 5e-3, batchSize: 4, gradAccum: 1, maxSteps: 12, checkpointEvery: 0, schedule: 'constant', quant: 'none', ...o });

  async function train(c: RunConfig, pairs: PairIds[], runId: string, opts: { stopAt?: number; resume?: boolean } = {}) {
    const store = new FolderRunStore(join(dir, runId));
    const lora = createLora(ctx, cfg, { r: c.r, alpha: c.alpha, dropout: c.dropout, targets: 'all-linear', useRslora: false }, c.seed);
    const tf = new Transformer(ctx, base, lora);
    const steps: StepMetrics[] = [];
    const resume = opts.resume ? ((await store.load(runId)) ?? undefined) : undefined;
    let run: TrainingRun;
    const emit = (e: RunEvent) => {
      if (e.type === 'step') {
        steps.push(e.metrics);
        if (opts.stopAt && e.metrics.step >= opts.stopAt) run.pause();
      }
    };
    run = new TrainingRun(ctx, tf, lora, cycle(pairs, c.batchSize), [], c, store, emit, { runId, modelName: 'golden', modelFingerprint: 'm', datasetName: 'd', datasetFingerprint: 'd' }, resume);
    const status = await run.run();
    const weights = await readLora(ctx, lora, 'weights');
    return { status, steps, weights, lora, tf, run };
  }

  function dispose(r: { lora: Lora; tf: Transformer; run: TrainingRun }) {
    r.run.release();
    r.tf.release();
    releaseLora(ctx, r.lora);
  }

  it('learns a learnable preference: loss falls, reward accuracy rises', async () => {
    const pairs = learnablePairs(8, 3);
    const r = await train(runCfg({ maxSteps: 15 }), pairs, 'learn');
    const first = r.steps.slice(0, 2);
    const last = r.steps.slice(-2);
    const mean = (xs: StepMetrics[], k: keyof StepMetrics) => xs.reduce((a, m) => a + (m[k] as number), 0) / xs.length;
    expect(r.status).toBe('finished');
    expect(mean(last, 'loss')).toBeLessThan(0.8 * mean(first, 'loss'));
    expect(mean(last, 'rewards/margins')).toBeGreaterThan(mean(first, 'rewards/margins'));
    expect(mean(last, 'rewards/accuracies')).toBe(1);
    dispose(r);
  });

  it('k accumulated micro-batches give the gradients of one batch of k', async () => {
    const pairs = learnablePairs(6, 5);
    const lc = { r: 4, alpha: 8, dropout: 0, targets: 'all-linear' as const, useRslora: false };
    const loss = { loss: 'sigmoid' as const, beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 };
    const norm = { pairs: 6, chosenTokens: pairs.reduce((a, p) => a + p.chosenIds.length, 0) };
    const grads = [];
    for (const split of [[pairs], [pairs.slice(0, 2), pairs.slice(2, 5), pairs.slice(5)]]) {
      const lora = createLora(ctx, cfg, lc, 11);
      // B = 0 at PEFT's init would make every dA zero: give B values so both gradients are exercised.
      for (const row of lora.modules) for (const m of Object.values(row)) ctx.write(m!.B, new Float32Array(m!.N * 4).map((_, i) => Math.sin(i) * 0.05));
      const tf = new Transformer(ctx, base, lora);
      let total = 0;
      for (let k = 0; k < split.length; k++) total += (await runMicroBatch(tf, split[k], loss, norm, { backward: true, accumulate: k > 0, dropoutSeed: null })).loss.loss;
      grads.push({ g: await readLora(ctx, lora, 'grads'), total });
      tf.release();
      releaseLora(ctx, lora);
    }
    expect(Math.abs(grads[0].total - grads[1].total)).toBeLessThan(1e-6 * Math.abs(grads[0].total) + 1e-9);
    for (const [name, g] of grads[0].g) {
      let max = 0;
      for (const v of g) max = Math.max(max, Math.abs(v));
      expectClose(grads[1].g.get(name)!, g, 1e-5 * max, 1e-4, name);
    }
  });

  it('N steps, checkpoint, resume, N steps equals 2N steps bit for bit', async () => {
    const pairs = learnablePairs(8, 9);
    const c = runCfg({ maxSteps: 6, gradAccum: 2, batchSize: 2, schedule: 'linear', warmupSteps: 2, weightDecay: 0.01 });
    const straight = await train(c, pairs, 'straight');
    dispose(straight);
    const half = await train(c, pairs, 'resumed', { stopAt: 3 });
    expect(half.status).toBe('paused');
    dispose(half);
    const rest = await train(c, pairs, 'resumed', { resume: true });
    expect(rest.status).toBe('finished');
    expect(rest.steps[0].step).toBe(4);
    for (const [name, w] of straight.weights) {
      expect(Buffer.from(rest.weights.get(name)!.buffer).equals(Buffer.from(w.buffer)), name).toBe(true);
    }
    expect(rest.steps.map((m) => m.loss)).toEqual(straight.steps.slice(3).map((m) => m.loss));
    dispose(rest);
  });

  it('an exported adapter, imported again, gives the same log-probs', async () => {
    const pairs = learnablePairs(4, 13);
    const r = await train(runCfg({ maxSteps: 3 }), pairs, 'export');
    const loss = { loss: 'sigmoid' as const, beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 };
    const norm = { pairs: 4, chosenTokens: 20 };
    const before = await runMicroBatch(r.tf, pairs, loss, norm, { backward: false, accumulate: false, dropoutSeed: null });
    const exported = await exportLora(ctx, r.lora, 'golden', 'F32');
    const imported = adapterInit(await importPeftAdapter({ config: exported.config, weights: exported.weights }, configJson as never));
    const lora2 = createLora(ctx, cfg, imported.config, 0, imported.init);
    const tf2 = new Transformer(ctx, base, lora2);
    const after = await runMicroBatch(tf2, pairs, loss, norm, { backward: false, accumulate: false, dropoutSeed: null });
    expect(after.logps).toEqual(before.logps);
    tf2.release();
    releaseLora(ctx, lora2);
    dispose(r);
  });
});
