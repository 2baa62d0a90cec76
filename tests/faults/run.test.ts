// Faults during a run, each caused for real on the golden tiny Llama: the device destroyed in the middle of
// a step, the store failing mid-run, a NaN in a weight, a resume with a changed step budget. Each checks
// that nothing saved is lost and that the run says what happened.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig, RunEvent } from '../../src/engine/types.ts';
import { GpuContext } from '../../src/gpu/context.ts';
import type { PairIds } from '../../src/model/batch.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { createLora, readLora, releaseLora } from '../../src/model/lora.ts';
import { releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { Transformer } from '../../src/model/transformer.ts';
import type { Checkpoint, RunState, RunStore } from '../../src/train/checkpoint.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { runRecovering, type RunSession } from '../../src/train/recover.ts';
import { TrainingRun, type BatchSource } from '../../src/train/run.ts';
import { lrMultiplier, warmupSteps } from '../../src/train/schedule.ts';
import { gpu } from '../util/gpu.ts';
import { goldenModel, learnablePairs } from '../train/util.ts';

function cycle(pairs: PairIds[], batch: number): BatchSource {
  let pos = 0;
  const n = Math.ceil(pairs.length / batch);
  return {
    next: () => pairs.slice((pos++ % n) * batch, ((pos - 1) % n) * batch + batch),
    epoch: () => pos / n,
    cursor: () => pos,
    restore: (c) => void (pos = c as number),
    batchesPerEpoch: () => n,
  };
}

const runCfg = (o: Partial<RunConfig>): RunConfig =>
  presetConfig('quick', { r: 4, alpha: 8, dropout: 0.1, lr: 5e-3, batchSize: 2, gradAccum: 2, maxSteps: 8, checkpointEvery: 3, schedule: 'linear', warmupSteps: 2, quant: 'none', ...o });
const ID = { modelName: 'golden', modelFingerprint: 'm', datasetName: 'd', datasetFingerprint: 'd' };

// The first test compiles every pipeline (minutes on a loaded two-core SwiftShader).
describe('faults during a run', { timeout: 600_000 }, () => {
  let ctx: GpuContext;
  let cfg: ModelConfig;
  let base: BaseModel;
  let dir: string;
  const pairs = learnablePairs(8, 21);
  beforeAll(async () => {
    ctx = await gpu();
    ({ cfg, base } = await goldenModel(ctx));
    dir = mkdtempSync(join(tmpdir(), 'cpo-faults-run-'));
  });
  afterAll(() => {
    releaseBaseModel(ctx, base);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A run on `c` (its own base when the context is its own), resuming from `resume`. */
  async function session(on: GpuContext, own: boolean, c: RunConfig, store: RunStore, runId: string, emit: (e: RunEvent) => void, resume: Checkpoint | null, opts = {}) {
    const b = own ? (await goldenModel(on)).base : base;
    const lora = createLora(on, cfg, { r: c.r, alpha: c.alpha, dropout: c.dropout, targets: 'all-linear', useRslora: false }, c.seed);
    const tf = new Transformer(on, b, lora);
    const run = new TrainingRun(on, tf, lora, cycle(pairs, c.batchSize), [], c, store, emit, { runId, ...ID }, resume ?? undefined, opts);
    const release = () => {
      run.release();
      tf.release();
      releaseLora(on, lora);
      if (own) {
        releaseBaseModel(on, b);
        on.destroy();
      }
    };
    return { ctx: on, run, lora, tf, release };
  }

  it('a store that fails mid-run: training continues, the earlier checkpoint stays, the user is told', async () => {
    const c = runCfg({ maxSteps: 7, checkpointEvery: 2 });
    const inner = new FolderRunStore(join(dir, 'flaky'));
    let saves = 0;
    const flaky: RunStore = {
      ...inner,
      load: (id) => inner.load(id),
      list: () => inner.list(),
      delete: (id) => inner.delete(id),
      async save(id: string, bytes: Uint8Array, st: RunState) {
        // The saves at steps 4 and 6 fail as a full disk would.
        saves++;
        if (st.step === 4 || st.step === 6) {
          const step = (await inner.load(id))!.state.step;
          expect(step).toBe(2);
          throw new Error(`disk full writing a ${bytes.byteLength} B checkpoint; the previous checkpoint (step ${step}) is intact`);
        }
        return inner.save(id, bytes, st);
      },
    };
    const messages: string[] = [];
    const s = await session(ctx, false, c, flaky, 'r', (e) => e.type === 'status' && e.message && messages.push(e.message), null);
    expect(await s.run.run()).toBe('finished');
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^checkpoint at step 4 not saved: disk full .* \(last saved checkpoint: step 2\); training continues/);
    expect(messages[1]).toMatch(/^checkpoint at step 6 not saved: .*\(last saved checkpoint: step 2\)/);
    expect((await inner.load('r'))!.state.step).toBe(7);
    s.release();
  });

  it('resuming with a larger step budget keeps the original schedule unless asked to stretch it, and says which', async () => {
    const c = runCfg({ maxSteps: 6, checkpointEvery: 0, schedule: 'cosine', warmupSteps: 0, warmupRatio: 0.34 });
    const store = new FolderRunStore(join(dir, 'sched'));
    const first = await session(ctx, false, c, store, 'r', () => {}, null);
    first.run.state.totalSteps = 6;
    expect(await first.run.run()).toBe('finished');
    first.release();
    const saved = (await store.load('r'))!;
    expect(saved.state.scheduleSteps).toBe(6);
    for (const stretch of [false, true]) {
      const messages: string[] = [];
      const lrs: number[] = [];
      const s = await session(ctx, false, { ...c, maxSteps: 10 }, store, 'r', (e) => {
        if (e.type === 'status' && e.message) messages.push(e.message);
        if (e.type === 'step') lrs.push(e.metrics.learning_rate);
      }, saved, { stretchSchedule: stretch });
      expect(await s.run.run()).toBe('finished');
      const total = stretch ? 10 : 6;
      const warm = warmupSteps(total, 0.34, 0);
      expect(lrs).toEqual([6, 7, 8, 9].map((step) => c.lr * lrMultiplier('cosine', step, total, warm)));
      expect(messages[0]).toMatch(stretch ? /changed from 6 to 10: the cosine schedule with its warmup is stretched over 10 steps/ : /changed from 6 to 10: the original cosine schedule with its warmup over 6 steps is kept; steps past 6 run at the schedule's end value.*--stretch-schedule/);
      expect(s.run.state.scheduleSteps).toBe(total);
      s.release();
    }
  });

  it('a NaN in a layer\'s weight: the first non-finite step names the layer', async () => {
    const own = ctx;
    const b = base;
    // A norm weight poisoned after loading (a load-time NaN is refused before this; see corpus): layer 1.
    const norm = await own.readF32(b.layers[1].mlpNorm, cfg.C);
    own.write(b.layers[1].mlpNorm, norm.map((v, i) => (i === 5 ? NaN : v)));
    const c = runCfg({ maxSteps: 6, checkpointEvery: 0 });
    const lora = createLora(own, cfg, { r: 4, alpha: 8, dropout: 0, targets: 'all-linear', useRslora: false }, 1);
    const tf = new Transformer(own, b, lora);
    const messages: string[] = [];
    const store = new FolderRunStore(join(dir, 'nan'));
    const run = new TrainingRun(own, tf, lora, cycle(pairs, 2), [], c, store, (e) => e.type === 'status' && e.message && messages.push(e.message), { runId: 'r', ...ID });
    expect(await run.run()).toBe('failed');
    expect(messages[0]).toMatch(/^step 1 skipped: its loss is not finite; it appeared in layer 1 \(model\.layers\.1\): its input was finite, its output is not/);
    expect(messages.at(-1)).toMatch(/5 steps in a row had a non-finite loss or gradient \(step 5; at the first, it appeared in layer 1/);
    // The adapter saved with the failure is the finite one from before (skipped steps change nothing).
    const saved = await store.load('r');
    expect(saved!.state.skippedSteps).toBe(5);
    run.release();
    tf.release();
    releaseLora(own, lora);
    own.write(b.layers[1].mlpNorm, norm);
  });
  it('the device destroyed in the middle of a step: a new device, the last checkpoint, and the same result as no fault', async () => {
    const c = runCfg({});
    const straightStore = new FolderRunStore(join(dir, 'straight'));
    const straight = await session(ctx, false, c, straightStore, 'r', () => {}, null);
    expect(await straight.run.run()).toBe('finished');
    const want = await readLora(ctx, straight.lora, 'weights');
    straight.release();

    const store = new FolderRunStore(join(dir, 'lost'));
    const events: RunEvent[] = [];
    const notices: string[] = [];
    let destroyedDuringStep = -1;
    const emit = (e: RunEvent) => events.push(e);
    // The shared device (its pipelines already compiled) is the one lost, so this test runs last.
    const first = await session(ctx, false, c, store, 'r', (e) => {
      emit(e);
      if (e.type === 'step' && e.metrics.step === 4) {
        // Arm: the second queue submission of step 5 (its forward's readback) destroys the device.
        const q = first.ctx.device.queue;
        const submit = q.submit.bind(q);
        let n = 0;
        q.submit = (cbs: Iterable<GPUCommandBuffer>) => {
          if (++n === 2) {
            destroyedDuringStep = first.run.state.step + 1;
            first.ctx.device.destroy();
          }
          return submit(cbs);
        };
      }
    }, null);
    let opened = 0;
    const result = await runRecovering(first as RunSession, {
      store,
      retries: 1,
      notice: (m) => notices.push(m),
      describeCheckpoint: (id) => join(store.dir, `${id}.safetensors`),
      open: async (ck) => {
        opened++;
        return session(await GpuContext.create(), true, c, store, 'r', emit, ck);
      },
    });
    expect(destroyedDuringStep).toBe(5);
    expect(opened).toBe(1);
    expect(result.recoveries).toBe(1);
    expect(result.status).toBe('finished');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/GPU device lost \(destroyed\).*; resuming automatically on a new device from its last checkpoint \(step 3, .*lost\/r\.safetensors\)/);
    const got = await readLora(result.session.ctx, (result.session as unknown as { lora: Parameters<typeof readLora>[1] }).lora, 'weights');
    for (const [name, w] of want) expect(Buffer.from(got.get(name)!.buffer).equals(Buffer.from(w.buffer)), name).toBe(true);
    // Steps 4 and 5 ran twice (once lost with the device), the state's history holds each step once.
    expect(result.session.run.state.history.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    result.session.release();
  }, 600_000); // the fresh device compiles every pipeline again (minutes on a loaded SwiftShader)

});
