// The studio's engine after a lost GPU device: a notice, the model loaded again on a new device, and the run
// resumed from its last checkpoint without the user doing anything.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/engine/local.ts';
import type { RunEvent } from '../../src/engine/types.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { REPO } from '../train/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-faults-engine-'));
const engine = new LocalEngine(new FolderRunStore(dir));
afterAll(() => {
  engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('LocalEngine and a lost device', () => {
  it('resumes automatically from the last checkpoint on a new device, with a notice', async () => {
    await engine.loadModel({ kind: 'path', path: resolve(REPO, 'public/models/tiny') }, 'none');
    const demo = readFileSync(resolve(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').slice(0, 12).join('\n');
    await engine.loadDataset(Object.assign(new Blob([demo]), { name: 'demo.jsonl' }), { maxLength: 64, maxPromptLength: 48, evalFraction: 0.2, seed: 42 });
    const events: RunEvent[] = [];
    const cfg = presetConfig('quick', { name: 'lost', quant: 'none', maxSteps: 4, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 1 });
    let destroyed = false;
    const rec = await engine.train(cfg, (e) => {
      events.push(e);
      if (e.type === 'step' && e.metrics.step === 2 && !destroyed) {
        destroyed = true;
        // The engine's device, as a driver reset would take it.
        (engine as unknown as { ctx: GpuContext }).ctx.device.destroy();
      }
    });
    expect(destroyed).toBe(true);
    expect(rec.status).toBe('finished');
    const notices = events.filter((e) => e.type === 'status' && e.message?.includes('resuming automatically'));
    expect(notices).toHaveLength(1);
    expect((notices[0] as { message: string }).message).toMatch(/^the GPU device was lost; resuming automatically on a new device from its checkpoint at step [12], .*\.safetensors$/);
    expect(rec.step).toBe(4);
    // One run id throughout; after the notice the steps continue from the checkpoint to the end.
    const after = events.slice(events.indexOf(notices[0])).filter((e) => e.type === 'step').map((e) => (e as { metrics: { step: number } }).metrics.step);
    expect(after.at(-1)).toBe(4);
    expect(new Set(events.filter((e) => e.type === 'step').map((e) => e.runId)).size).toBe(1);
  }, 600_000);
});
