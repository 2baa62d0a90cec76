// Checkpoints are not trusted: a damaged run state or tensor is refused naming the field, and a save that
// fails at any stage (crash, full disk, quota) leaves the previous checkpoint loadable and never a half one.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type RunState } from '../../src/train/checkpoint.ts';
import { checkCursor } from '../../src/train/batches.ts';
import { IdbRunStore, type KeyValue } from '../../src/train/idb-store.ts';
import { FolderRunStore, nodeStoreFs, type StoreFs } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-faults-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(step: number, o: Record<string, unknown> = {}): RunState {
  return {
    version: 1, runId: 'r1', step, totalSteps: 10, scheduleSteps: 10, cursor: { epoch: 0, position: step, rngState: [1, 2, 3, 4], trainSize: 8 }, config: presetConfig('quick'),
    modelName: 'm', modelFingerprint: 'mf', datasetName: 'd', datasetFingerprint: 'df', skippedSteps: 0, history: [], evals: [], createdAt: 0, savedAt: step, ...o,
  } as RunState;
}
const tensors = (v: number) => new Map([['w', Float32Array.from([v, v + 1, v + 2])], ['w.exp_avg_sq', Float32Array.from([0.5, 0.25, 0.125])]]);
const ckpt = (step: number, o: Record<string, unknown> = {}) => encodeCheckpoint({ state: state(step, o), tensors: tensors(step) });
/** A checkpoint file whose run_state JSON is exactly `json` (what a hand edit or a bit flip leaves). */
const rawCkpt = (json: string) => writeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) }], { run_state: json });

describe('a damaged run state is refused naming the field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['null config', { config: null }, /config: expected the run's settings, got null/],
    ['null history', { history: null }, /history: expected an array/],
    ['string step', { step: '3' }, /step: expected a non-negative integer, got "3"/],
    ['negative step', { step: -1 }, /step: expected a non-negative integer/],
    ['zero totalSteps', { totalSteps: 0 }, /totalSteps: expected a positive integer/],
    ['missing cursor', { cursor: null }, /cursor: expected the data position/],
    ['NaN lr (null in JSON)', { config: { ...presetConfig('quick'), lr: null } }, /config\.lr: expected a finite number, got null/],
    ['unknown loss', { config: { ...presetConfig('quick'), loss: 'kto' } }, /config\.loss: expected one of sigmoid/],
    ['unknown schedule', { config: { ...presetConfig('quick'), schedule: 'step' } }, /config\.schedule/],
    ['out-of-range rank', { config: { ...presetConfig('quick'), r: 0 } }, /config\.r: must be an integer in 1\.\.512/],
    ['bad evals', { evals: [{ step: 'x' }] }, /evals: expected an array of \{step, metrics\}/],
    ['missing fingerprint', { modelFingerprint: undefined }, /modelFingerprint: expected a string, got missing/],
  ];
  for (const [what, o, re] of cases) {
    it(what, async () => {
      const err = await decodeCheckpoint(ckpt(3, o), 'runs/r1.safetensors').then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^runs\/r1\.safetensors: the checkpoint's run state is damaged/);
      expect(err?.message).toMatch(re);
    });
  }

  it('run_state that is not JSON, or not an object', async () => {
    await expect(decodeCheckpoint(rawCkpt('{"version":1,'), 'c.safetensors')).rejects.toThrow(/c\.safetensors: run_state is not valid JSON/);
    await expect(decodeCheckpoint(rawCkpt('null'), 'c.safetensors')).rejects.toThrow(/c\.safetensors: [^]*run_state: expected an object, got null/);
    await expect(decodeCheckpoint(rawCkpt('{"version":7}'), 'c.safetensors')).rejects.toThrow(/version 7 is not supported/);
  });

  it('NaN or Inf AdamW moments are named with their index', async () => {
    const t = tensors(1);
    t.get('w.exp_avg_sq')![2] = NaN;
    t.set('b.exp_avg', Float32Array.from([0, -Infinity]));
    const bytes = encodeCheckpoint({ state: state(3), tensors: t });
    const err = await decodeCheckpoint(bytes, 'ck').then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/ck: the checkpoint holds non-finite values/);
    expect(err?.message).toContain('w.exp_avg_sq[2] = NaN');
    expect(err?.message).toContain('b.exp_avg[1] = -Infinity');
  });

  it('a garbage data cursor is refused naming the field', () => {
    const good = { epoch: 1, position: 2, rngState: [1, 2, 3, 4], trainSize: 9 };
    expect(checkCursor(good)).toEqual(good);
    expect(() => checkCursor('garbage')).toThrow(/data cursor is damaged: expected \{epoch/);
    expect(() => checkCursor({ ...good, position: -4 })).toThrow(/cursor\.position: expected a non-negative integer, got -4/);
    expect(() => checkCursor({ ...good, epoch: 1.5 })).toThrow(/cursor\.epoch/);
    expect(() => checkCursor({ ...good, rngState: [0, 0, 0, 0] })).toThrow(/cursor\.rngState: expected four 32-bit words not all zero/);
    expect(() => checkCursor({ ...good, rngState: [1, 2, 3] })).toThrow(/cursor\.rngState/);
    expect(() => checkCursor({ ...good, trainSize: null })).toThrow(/cursor\.trainSize/);
  });
});

/** Node's file operations, failing at the `failAt`-th call (1-based), after writing half the bytes for a write. */
function failingFs(failAt: number, code = 'EIO'): StoreFs {
  let calls = 0;
  const fail = () => Object.assign(new Error(`${code}: simulated failure`), { code });
  const wrap = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
    if (++calls === failAt) throw fail();
    f(...a);
  };
  return {
    mkdir: wrap(nodeStoreFs.mkdir),
    rename: wrap(nodeStoreFs.rename),
    rm: nodeStoreFs.rm,
    writeFile(path, bytes) {
      if (++calls === failAt) {
        // A torn write: half the file reaches the disk before the process dies or the disk fills.
        writeFileSync(path, bytes.subarray(0, bytes.byteLength >> 1));
        throw fail();
      }
      nodeStoreFs.writeFile(path, bytes);
    },
  };
}

describe('a folder store failing at each stage of a save keeps the previous checkpoint', () => {
  // Stages of save(): 1 mkdir, 2 write+fsync the temporary file, 3 rename over the old one, 4 the JSON summary.
  for (const stage of [1, 2, 3, 4]) {
    it(`stage ${stage}`, async () => {
      const d = join(dir, `stage-${stage}`);
      await new FolderRunStore(d).save('r1', ckpt(2), state(2));
      const store = new FolderRunStore(d, failingFs(stage));
      const saved = store.save('r1', ckpt(4), state(4));
      if (stage === 4) await saved; // the summary is informational: the checkpoint itself is complete
      else await expect(saved).rejects.toThrow(/previous checkpoint .*r1\.safetensors .* is intact/);
      const back = await new FolderRunStore(d).load('r1');
      const want = stage === 4 ? 4 : 2;
      expect(back!.state.step).toBe(want);
      expect([...back!.tensors.get('w')!]).toEqual([want, want + 1, want + 2]);
      expect((await new FolderRunStore(d).list()).map((s) => s.step)).toEqual([want]);
      expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('a process killed mid-write leaves a torn temporary file that is never read', async () => {
    const d = join(dir, 'killed');
    await new FolderRunStore(d).save('r1', ckpt(2), state(2));
    const next = ckpt(5);
    writeFileSync(join(d, 'r1.safetensors.tmp'), next.subarray(0, 100)); // what a SIGKILL during write leaves
    expect((await new FolderRunStore(d).load('r1'))!.state.step).toBe(2);
    expect((await new FolderRunStore(d).list()).map((s) => s.step)).toEqual([2]);
    await new FolderRunStore(d).save('r1', next, state(5)); // the next save replaces the leftover
    expect((await new FolderRunStore(d).load('r1'))!.state.step).toBe(5);
    expect(existsSync(join(d, 'r1.safetensors.tmp'))).toBe(false);
  });

  it('a full disk: the message gives the sizes and a way to free space', async () => {
    const d = join(dir, 'full');
    await new FolderRunStore(d).save('r1', ckpt(2), state(2));
    const big = ckpt(4);
    const err = await new FolderRunStore(d, failingFs(2, 'ENOSPC')).save('r1', big, state(4)).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^disk full writing a [\d.]+ KiB checkpoint of run r1 to .*full, [\d.]+ [KMG]iB free on that disk; the previous checkpoint .*r1\.safetensors \([\d.]+ KiB\) is intact\. Free space \(delete old adapter folders/);
    expect((await new FolderRunStore(d).load('r1'))!.state.step).toBe(2);
  });
});

/** An in-memory IndexedDB stand-in whose `failAt`-th set() fails as a full origin quota does. */
function memoryKv(failAt = 0): KeyValue & { data: Map<string, unknown>; sets: number } {
  const data = new Map<string, unknown>();
  const kv = {
    data,
    sets: 0,
    get: async <T>(k: string) => data.get(k) as T | undefined,
    async set(k: string, v: unknown) {
      if (++kv.sets === failAt) throw Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
      data.set(k, v instanceof Uint8Array ? v.slice() : structuredClone(v));
    },
    del: async (k: string) => void data.delete(k),
    keys: async () => [...data.keys()],
  };
  return kv;
}

describe('the IndexedDB store failing at each stage keeps the previous checkpoint', () => {
  // Saves 1 and 2 (two sets each) succeed; the third save fails at its slot write (set 5) or its pointer (set 6).
  for (const failAt of [5, 6]) {
    it(`quota exceeded at set ${failAt}`, async () => {
      const kv = memoryKv(failAt);
      const store = new IdbRunStore(kv);
      await store.save('r1', ckpt(2), state(2));
      await store.save('r1', ckpt(4), state(4));
      const err = await store.save('r1', ckpt(6), state(6)).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^storage quota exceeded writing a [\d.]+ KiB checkpoint of run r1; the previous checkpoint \(step 4\) is intact\. Delete old runs/);
      expect((await store.load('r1'))!.state.step).toBe(4);
      expect((await store.list()).map((s) => s.step)).toEqual([4]);
      // The half-done slot was dropped to return its space; the next save succeeds and is the one loaded.
      await store.save('r1', ckpt(8), state(8));
      expect((await store.load('r1'))!.state.step).toBe(8);
    });
  }

  it("a checkpoint no run points to (the tab closed in a run's first save, before its pointer) is never listed or loaded, and its space is returned once it is old", async () => {
    const kv = memoryKv();
    const store = new IdbRunStore(kv);
    await store.save('r1', ckpt(2), state(2));
    // r2's first save: its slot committed, its pointer never written.
    kv.data.set('ckpt:r2:0', ckpt(0, { runId: 'r2', savedAt: Date.now() }));
    expect((await store.list()).map((s) => s.runId)).toEqual(['r1']);
    expect(await store.load('r2')).toBeNull();
    // Young: a save may be about to write its pointer, so it stays.
    expect(kv.data.has('ckpt:r2:0')).toBe(true);
    kv.data.set('ckpt:r2:0', ckpt(0, { runId: 'r2', savedAt: Date.now() - 11 * 60_000 }));
    kv.data.set('ckpt:r3:1', new Uint8Array([1, 2, 3])); // unreadable, and no run of its own
    expect((await store.list()).map((s) => s.runId)).toEqual(['r1']);
    expect([...kv.data.keys()].sort()).toEqual(['ckpt:r1:0', 'run:r1']);
    expect((await store.load('r1'))!.state.step).toBe(2);
  });

  it('a damaged current slot falls back to the checkpoint before it, saying so', async () => {
    const kv = memoryKv();
    const store = new IdbRunStore(kv);
    await store.save('r1', ckpt(2), state(2));
    await store.save('r1', ckpt(4), state(4));
    kv.data.set('ckpt:r1:1', ckpt(4).subarray(0, 60));
    const back = await store.load('r1');
    expect(back!.state.step).toBe(2);
    expect(store.lastLoadWarning).toMatch(/run r1.*resuming from the checkpoint before it \(step 2\)/);
  });

  it('a damaged current slot beside a later checkpoint its pointer never reached (the tab closed between the puts) says so', async () => {
    const kv = memoryKv();
    const store = new IdbRunStore(kv);
    await store.save('r1', ckpt(2), state(2));
    await store.save('r1', ckpt(4), state(4));
    kv.data.set('ckpt:r1:0', ckpt(6)); // step 6's slot committed, its pointer not
    kv.data.set('ckpt:r1:1', ckpt(4).subarray(0, 60));
    expect((await store.load('r1'))!.state.step).toBe(6);
    expect(store.lastLoadWarning).toMatch(/run r1.*resuming from a later complete checkpoint the run never pointed to \(step 6\)/);
  });
});
