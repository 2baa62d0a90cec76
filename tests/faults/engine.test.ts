// The engine (the studio's worker, the CLI's `train`) after a lost GPU device, the device destroyed in the
// middle of a step: a 'recovering' notice (never a 'failed' status first), the model loaded again on a new
// device, the run resumed from its last checkpoint, and the same adapter as a run that was never interrupted.
// Past its retries (the CLI: 1) the engine gives up naming the checkpoint to resume from.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/engine/local.ts';
import type { RunEvent } from '../../src/engine/types.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { REPO } from '../train/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-faults-engine-'));
const store = new FolderRunStore(dir);
const engine = new LocalEngine(store);
const cfg = presetConfig('quick', { name: 'lost', quant: 'none', maxSteps: 4, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 1, evalEvery: 2 });

/** The engine's device destroyed by the `nth` queue submission from now: inside the next step, not between steps. */
const destroyWithin = (nth: number) => engine.loseDeviceWithin(nth);

const statuses = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'status' ? [e.status] : []));

beforeAll(async () => {
  await engine.loadModel({ kind: 'path', path: resolve(REPO, 'public/models/tiny') }, 'none');
  const demo = readFileSync(resolve(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').slice(0, 12).join('\n');
  await engine.loadDataset(Object.assign(new Blob([demo]), { name: 'demo.jsonl' }), { maxLength: 64, maxPromptLength: 48, evalFraction: 0.2, seed: 42 });
});
afterAll(() => {
  engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('LocalEngine and a lost device', () => {
  it('destroyed mid-step: running → recovering (with a notice) → running, and the adapter of an uninterrupted run', async () => {
    const straight = await engine.train(cfg, () => {});
    expect(straight.status).toBe('finished');
    const want = (await store.load(straight.id))!;

    const events: RunEvent[] = [];
    let armed = false;
    const rec = await engine.train(cfg, (e) => {
      events.push(e);
      // After step 2's checkpoint is saved, the second submission of step 3 destroys the device.
      if (e.type === 'checkpoint' && e.step === 2 && !armed) {
        armed = true;
        destroyWithin(2);
      }
    });
    expect(armed).toBe(true);
    expect(rec.status).toBe('finished');
    expect(rec.step).toBe(4);
    expect(statuses(events)).toEqual(['running', 'recovering', 'running', 'finished']);
    const notice = events.find((e) => e.type === 'status' && e.status === 'recovering') as { message: string };
    expect(notice.message).toMatch(/^GPU device lost \(destroyed\).*; resuming automatically on a new device from its last checkpoint \(step 2, .*run-[0-9a-z]+\.safetensors\)$/);
    // Step 3 was cut short by the loss (no step event), then ran on the new device from the checkpoint.
    const steps = events.flatMap((e) => (e.type === 'step' ? [e.metrics.step] : []));
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(new Set(events.map((e) => e.runId)).size).toBe(1);
    const got = (await store.load(rec.id))!;
    expect(got.state.history.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect([...got.tensors.keys()].sort()).toEqual([...want.tensors.keys()].sort());
    const bytes = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
    for (const [name, t] of want.tensors) expect(bytes(got.tensors.get(name)!).equals(bytes(t)), name).toBe(true);
    expect(got.state.history.map((m) => m.loss)).toEqual(want.state.history.map((m) => m.loss));
  }, 600_000);

  it('paused while it recovers: the pause waits for the new device, and the run pauses there before its next step, saved at its checkpoint', async () => {
    const events: RunEvent[] = [];
    let armed = false;
    const rec = await engine.train(cfg, (e) => {
      events.push(e);
      if (e.type === 'checkpoint' && e.step === 2 && !armed) {
        armed = true;
        destroyWithin(2);
      }
      // Clicked while the page reads 'Recovering': no run object exists to take it until the new device is up.
      if (e.type === 'status' && e.status === 'recovering') void engine.pause();
    });
    expect(statuses(events)).toEqual(['running', 'recovering', 'running', 'paused']);
    expect(rec).toMatchObject({ status: 'paused', step: 2 });
    expect(events.flatMap((e) => (e.type === 'step' ? [e.metrics.step] : []))).toEqual([1, 2]);
    const stored = (await store.list()).find((s) => s.runId === rec.id)!;
    expect([stored.status, stored.step]).toEqual(['paused', 2]);
  }, 600_000);

  it('lost again past its retries (the CLI: 1): gives up naming the checkpoint, with no failed status before the notice', async () => {
    engine.deviceLossResumes = 1;
    const events: RunEvent[] = [];
    let losses = 0;
    const armed = new WeakSet<GpuContext>();
    const err = await engine
      .train(cfg, (e) => {
        events.push(e);
        // Each device dies inside the step after its first checkpoint past step 0.
        const ctx = (engine as unknown as { ctx: GpuContext }).ctx;
        if (e.type === 'checkpoint' && e.step >= 1 && !armed.has(ctx)) {
          armed.add(ctx);
          losses++;
          destroyWithin(2);
        }
      })
      .then(() => null, (e: Error) => e);
    expect(losses).toBe(2);
    expect(statuses(events)).toEqual(['running', 'recovering', 'running']);
    expect(err?.message).toMatch(/^device-lost: GPU device lost \(destroyed\).*; 1 recovery tried, giving up\. Run run-[0-9a-z]+ can resume from its last checkpoint \(step \d, .*run-[0-9a-z]+\.safetensors\)$/);
    // What was saved is still there and loadable.
    const runId = events[0].runId;
    expect((await store.load(runId))!.state.step).toBeGreaterThanOrEqual(1);
    engine.deviceLossResumes = 2;
  }, 600_000);
});
