// What the run list says about a run, as the studio shows it: listed from its first second (a reload before
// the first periodic checkpoint must not lose it), and stopped runs kept apart from paused ones.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/engine/local.ts';
import type { RunRecord } from '../../src/engine/types.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { REPO } from '../train/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-states-'));
const engine = new LocalEngine(new FolderRunStore(dir));
afterAll(() => {
  engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('run states in the run list', () => {
  it('lists a run as running from its first step, and as stopped once stopped', async () => {
    await engine.loadModel({ kind: 'path', path: resolve(REPO, 'public/models/tiny') }, 'q8_0');
    const demo = readFileSync(resolve(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').slice(0, 16).join('\n');
    await engine.loadDataset(Object.assign(new Blob([demo]), { name: 'demo.jsonl' }), { maxLength: 64, maxPromptLength: 48, evalFraction: 0, seed: 1 });
    // No periodic checkpoint before the end: only the first-second save can list it mid-run.
    const cfg = presetConfig('quick', { name: 'states', quant: 'q8_0', maxSteps: 50, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 0, evalEvery: 0 });
    const run = async (end: () => Promise<void>) => {
      let listedMidRun: RunRecord[] | null = null;
      let first: Promise<void> | null = null;
      const rec = await engine.train(cfg, (e) => {
        if (e.type === 'step' && !first) first = engine.listRuns().then((l) => void (listedMidRun = l)).then(end);
      });
      await first;
      return { rec, listedMidRun: listedMidRun as RunRecord[] | null };
    };
    const stopped = await run(() => engine.stop());
    expect(stopped.listedMidRun?.find((r) => r.id === stopped.rec.id)).toMatchObject({ status: 'running', step: 0 });
    expect(stopped.rec.status).toBe('stopped');
    // Listed as it ended (a paused run's 'paused' is written by the same line, and tests/train covers pausing).
    const listed = await engine.listRuns();
    expect(listed.map((r) => [r.id, r.status])).toEqual([[stopped.rec.id, 'stopped']]);
    expect(listed[0].step).toBeGreaterThan(0);
    expect(listed[0].step).toBeLessThan(50);
  });
});
