// Checkpoint stores: a failed write (disk full, quota, a crash mid-write) leaves the previous checkpoint readable.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type RunState } from '../../src/train/checkpoint.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(step: number): RunState {
  return {
    version: 1, runId: 'r1', step, totalSteps: 10, cursor: { epoch: 0, position: step }, config: presetConfig('quick'),
    modelName: 'm', modelFingerprint: 'mf', datasetName: 'd', datasetFingerprint: 'df', skippedSteps: 0, history: [], evals: [], createdAt: 0, savedAt: step,
  };
}

describe('checkpoints', () => {
  it('round-trip weights, moments and state exactly', async () => {
    const tensors = new Map([['a', Float32Array.from([1.5, -2, 3e-8])], ['a.exp_avg', Float32Array.from([0.1, 0.2, 0.3])]]);
    const back = await decodeCheckpoint(encodeCheckpoint({ state: state(3), tensors }));
    expect(back.state).toEqual(state(3));
    expect([...back.tensors.get('a')!]).toEqual([...tensors.get('a')!]);
  });

  it('a write that fails part-way keeps the previous checkpoint', async () => {
    const store = new FolderRunStore(join(dir, 'runs'));
    const t = new Map([['w', Float32Array.from([1, 2, 3])]]);
    await store.save('r1', encodeCheckpoint({ state: state(2), tensors: t }), state(2));
    // The temporary file's path taken by a folder: the write fails before the rename, as a full disk would.
    mkdirSync(join(dir, 'runs', 'r1.safetensors.tmp'));
    await expect(store.save('r1', encodeCheckpoint({ state: state(4), tensors: t }), state(4))).rejects.toThrow();
    const kept = await store.load('r1');
    expect(kept!.state.step).toBe(2);
    expect([...kept!.tensors.get('w')!]).toEqual([1, 2, 3]);
    expect((await store.list()).map((s) => s.step)).toEqual([2]);
  });

  it('refuses a file that is not a checkpoint, naming it', async () => {
    await expect(decodeCheckpoint(new Uint8Array(16), 'junk.safetensors')).rejects.toThrow(/junk\.safetensors/);
  });
});
