// ctx.precompile(modelStepPipelines(...)) creates every pipeline a real step then uses: after it, a training step
// (forward, backward with LoRA dropout, the optimizer update) and a log-probs pass on each family (the golden tiny
// Llama, golden-hf's Qwen3 with q/k norms and Gemma 3 with GeGLU, sliding windows and sandwich norms) compile
// nothing new. Run with the device's own choices and with the GPU variants forced (kernelEnv.device 'gpu').
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GpuContext } from '../../src/gpu/context.ts';
import { pipelineId } from '../../src/gpu/wgsl.ts';
import { modelStepPipelines, precompileModel, stepPlans } from '../../src/engine/precompile.ts';
import { loadModel } from '../../src/engine/session.ts';
import { resetKernelEnv, kernelEnv } from '../../src/kernels/env.ts';
import { openModel } from '../../src/model/load.ts';
import { createLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { LoraOptimizer } from '../../src/train/optimizer.ts';
import { layoutBatch, runMicroBatch } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { GOLDEN_DIR } from '../util/golden.ts';
import { TINY } from '../util/tiny.ts';
import { gpu } from '../util/gpu.ts';
import { trainable } from '../util/trainable.ts';

const HF = resolve(import.meta.dirname, '../../../shared/golden-hf');
const MODELS = { llama: resolve(GOLDEN_DIR, 'model'), qwen3: resolve(HF, 'qwen3/model'), gemma3: resolve(HF, 'gemma3/model') };

afterEach(() => resetKernelEnv());

/** Every pipeline ctx is asked for from now on, cached or not, by id (the spy's mockRestore stops it). */
function recordCompiles(ctx: GpuContext) {
  const used = new Set<string>();
  const spy = vi.spyOn(ctx, 'compile').mockImplementation(function (this: GpuContext, shader, defines, entryPoint = 'main') {
    used.add(pipelineId({ shader, defines, entryPoint }));
    return GpuContext.prototype.compile.call(this, shader, defines, entryPoint);
  });
  return { used, spy };
}

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
    const train = stepPlans(pairs, lora4, true);
    const score = stepPlans(pairs, { ...lora4, dropout: 0 }, false);
    const trainShared = stepPlans(pairs, { ...lora4, dropout: 0 }, true);
    expect(score.every((p) => p.dims.shared)).toBe(true);
    expect(train.some((p) => p.dims.shared)).toBe(false);
    const plans = [...train, ...score, ...trainShared];
    const planned = modelStepPipelines(ctx, cfg, quant, train[0]).length;
    expect(planned).toBeGreaterThan(10);
    const pre = precompileModel(ctx, cfg, quant, plans);
    const [forward, rest] = await Promise.all([pre.forward, pre.rest]);
    expect(forward + rest).toBeGreaterThanOrEqual(planned);
    const before = new Set(ctx.pipelineIds);
    // Every pipeline the steps ask for, whether an earlier test left it cached or not, must have been planned.
    const plannedIds = new Set(plans.flatMap((p) => modelStepPipelines(ctx, cfg, quant, p)).map(pipelineId));
    const { used, spy } = recordCompiles(ctx);
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

// The two batches: a step's forward needs only the first, and its backward waits for the second (still being created
// when the forward ends on a fresh device) instead of creating any of it again on this thread.
it('a step runs its forward on the first batch and waits for the second in its backward', async () => {
  const ctx = await GpuContext.create();
  const opened = await openModel(nodeFiles(MODELS.llama));
  const cfg = opened.cfg;
  const base = await loadBaseModel(ctx, cfg, opened.reader, 'q4_0');
  await opened.close();
  const lora = createLora(ctx, cfg, { r: 4, alpha: 8, dropout: 0, targets: 'all-linear', useRslora: false }, 1);
  const tf = new Transformer(ctx, base, lora);
  try {
    const rng = new Rng(5);
    const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(cfg.V - 3));
    const pairs = [0, 1].map((i) => ({ promptIds: ids(6 + i), chosenIds: ids(4 + i), rejectedIds: ids(5 - i) }));
    const plans = stepPlans(pairs, { r: 4, targets: lora.targets, dropout: 0 }, true);
    expect(plans).toHaveLength(1); // lengths alike: one group, laid out as layoutBatch lays out the forward below
    const [plan] = plans;
    const forwardIds = new Set(modelStepPipelines(ctx, cfg, 'q4_0', plan, 'forward').map(pipelineId));
    const allIds = modelStepPipelines(ctx, cfg, 'q4_0', plan).map(pipelineId);
    expect(forwardIds.size).toBeLessThan(allIds.length);
    const pre = precompileModel(ctx, cfg, 'q4_0', [plan]);
    let restReady = false;
    void pre.rest.then(() => (restReady = true));
    expect(await pre.forward).toBe(forwardIds.size);
    // Pipelines created on this thread (ctx.compile missing its cache), by id.
    const created: string[] = [];
    const create = ctx.device.createComputePipeline.bind(ctx.device);
    const spy = vi.spyOn(ctx.device, 'createComputePipeline').mockImplementation((d) => (created.push(d.label ?? ''), create(d)));
    const batch = layoutBatch(pairs, false);
    await tf.forward(batch, { useLora: true, dropoutSeed: null }, true);
    const forwardCreated = [...created];
    const restReadyAfterForward = restReady;
    const dSeq = Float64Array.from({ length: 2 * pairs.length }, (_, i) => (i % 2 ? 0.5 : -0.25));
    await tf.backward(dSeq, false);
    spy.mockRestore();
    expect(restReadyAfterForward).toBe(false); // else the backward had nothing to wait for, and this proves nothing
    expect(forwardCreated).toEqual([]);
    expect(created).toEqual([]);
    expect(restReady).toBe(true);
    expect(await pre.rest).toBe(allIds.length - forwardIds.size);
  } finally {
    tf.release();
    releaseLora(ctx, lora);
    releaseBaseModel(ctx, base);
    ctx.destroy();
  }
}, 600_000);

it('loadModel creates the load\'s own pipelines on this thread before it queues any ahead', async () => {
  // One created on this thread while Dawn creates others asynchronously waits for them (model.ts loadPipelines).
  const ctx = await GpuContext.create();
  const events: string[] = [];
  const sync = ctx.device.createComputePipeline.bind(ctx.device);
  const async_ = ctx.device.createComputePipelineAsync.bind(ctx.device);
  vi.spyOn(ctx.device, 'createComputePipeline').mockImplementation((d) => (events.push(`sync ${d.label}`), sync(d)));
  vi.spyOn(ctx.device, 'createComputePipelineAsync').mockImplementation((d) => (events.push(`async ${d.label}`), async_(d)));
  try {
    const pairs = [{ promptIds: [5, 6, 7], chosenIds: [8, 9], rejectedIds: [10] }];
    const m = await loadModel(ctx, nodeFiles(TINY), 'q4_0', 'tiny', undefined, () => stepPlans(pairs, null, false));
    releaseBaseModel(ctx, m.base);
    const firstAsync = events.findIndex((e) => e.startsWith('async'));
    const lastSync = events.findLastIndex((e) => e.startsWith('sync'));
    expect(events.filter((e) => e.startsWith('sync quantize')).length).toBeGreaterThan(0); // the F16 file quantized to q4_0 and q8_0
    expect(firstAsync).toBeGreaterThan(0);
    expect(lastSync).toBeLessThan(firstAsync);
  } finally {
    vi.restoreAllMocks();
    ctx.destroy();
  }
}, 120_000);

describe('precompile covers a real step', () => {
  for (const [family, dir] of Object.entries(MODELS)) {
    it(`${family}, q4_0, the device's own variants`, () => check(dir, 'q4_0', 'auto'), 600_000);
  }
  it('gemma3, f32, the GPU variants forced', () => check(MODELS.gemma3, 'none', 'gpu'), 600_000);
});

// A micro-batch of unlike lengths runs in groups (train/step.ts layoutGroups): the groups after the first add their
// gradients to the first's, with their own pipelines (the LoRA gradient kernels' accumulating variants).
it('stepPlans covers a micro-batch run in length groups', async () => {
  const ctx = await gpu();
  const m = await trainable(ctx, MODELS.llama, 'q4_0', { r: 4, alpha: 8, dropout: 0, targets: 'all-linear', useRslora: false });
  const { cfg, lora, tf } = m;
  try {
    const rng = new Rng(9);
    const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(cfg.V - 3));
    const pairs = [3, 25, 4, 27].map((n) => ({ promptIds: ids(n), chosenIds: ids(4), rejectedIds: ids(3) }));
    const plans = stepPlans(pairs, { r: 4, targets: lora.targets, dropout: 0 }, true);
    // The long pairs, then the short ones adding to their gradients.
    expect(plans.map((p) => [p.dims.nSeq, !!p.accumulate])).toEqual([[2, false], [2, true]]);
    expect(plans[0].dims.T).toBeGreaterThan(2 * plans[1].dims.T);
    const planned = new Set(plans.flatMap((p) => modelStepPipelines(ctx, cfg, 'q4_0', p)).map(pipelineId));
    const { used, spy } = recordCompiles(ctx);
    const loss = { loss: 'sigmoid' as const, beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 };
    await runMicroBatch(tf, pairs, loss, { pairs: 4, chosenTokens: 16 }, { backward: true, accumulate: false, dropoutSeed: null });
    spy.mockRestore();
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((id) => !planned.has(id))).toEqual([]);
  } finally {
    m.release();
  }
}, 300_000);
