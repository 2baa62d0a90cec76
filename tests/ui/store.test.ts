import { describe, expect, it } from 'vitest';
import type { AdapterFiles } from '../../src/engine/types.ts';
import { SeriesStore } from '../../src/ui/lib/series.ts';
import { LOCK_HELD_MESSAGE } from '../../src/ui/lib/runlock.ts';
import { createStudioStore } from '../../src/ui/store/index.ts';
import { isActive, listedStatus, startBlockers, unfinishedRuns } from '../../src/ui/store/selectors.ts';
import { COMPILING_MESSAGE, FINISHING_MESSAGE, PAUSE_RECOVERING_MESSAGE, STOP_RECOVERING_MESSAGE, uniqueRunName } from '../../src/ui/store/training.ts';
import { FakeEngine } from './fake-engine.ts';

const jsonl = (n: number) =>
  Object.assign(new Blob([Array.from({ length: n }, (_, i) => JSON.stringify({ prompt: `p ${i}`, chosen: `good ${i}`, rejected: `bad ${i}` })).join('\n')]), { name: 'prefs.jsonl' });

function setup(opts: { stepMs?: number; locks?: LockManager; translate?: boolean; engine?: FakeEngine } = {}) {
  const series = new SeriesStore();
  const saved: AdapterFiles[] = [];
  const store = createStudioStore({
    engine: opts.engine ?? new FakeEngine({ stepMs: opts.stepMs ?? 2, loadMs: 5, translate: opts.translate }),
    series,
    locks: opts.locks,
    progressIntervalMs: 250,
    save: async (f, prefix) => (saved.push(f), f.files.map((x) => `${prefix}-${x.name}`)),
  });
  return { store, series, saved };
}

describe('studio store', () => {
  it('gates Start on model, data and valid settings', async () => {
    const { store } = setup();
    const s = store.getState();
    expect(startBlockers(s)).toEqual(expect.arrayContaining(['Load a model first.', 'Load a dataset first.']));
    await s.loadModel();
    await s.setDataFile(jsonl(20));
    expect(store.getState().dataInfo?.rowsUsable).toBe(20);
    expect(startBlockers(store.getState())).toEqual([]);
    store.getState().setField('lr', '7');
    expect(startBlockers(store.getState())).toEqual(['Fix the hyperparameters marked in red.']);
    store.getState().setField('lr', '5e-4');
    expect(store.getState().config.lr).toBe(5e-4);
  });

  it('puts every step in the series store but throttles progress into zustand', async () => {
    const { store, series } = setup({ stepMs: 5 });
    await store.getState().loadModel();
    await store.getState().setDataFile(jsonl(20));
    store.getState().setField('maxSteps', '120');
    let runUpdates = 0;
    store.subscribe((a, b) => {
      if (a.run !== b.run) runUpdates++;
    });
    const t0 = Date.now();
    await store.getState().startTraining();
    const seconds = (Date.now() - t0) / 1000;
    const run = store.getState().run;
    expect(run.phase).toBe('finished');
    expect(run.step).toBe(120);
    expect(series.get('loss').x).toHaveLength(120);
    // ≤ 4 progress updates a second, plus a handful for start, status and the final record.
    expect(runUpdates).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 8);
    expect(run.tokens).toBeGreaterThan(0);
    expect(store.getState().runs).toHaveLength(1);
  });

  it('pauses, resumes the same run, and exports its adapter', async () => {
    const { store, series, saved } = setup({ stepMs: 3 });
    await store.getState().loadModel();
    await store.getState().setDataFile(jsonl(20));
    store.getState().setField('maxSteps', '40');
    const training = store.getState().startTraining();
    await new Promise((r) => setTimeout(r, 40));
    await store.getState().pause();
    await training;
    expect(store.getState().run.phase).toBe('paused');
    const pausedAt = store.getState().run.step;
    expect(pausedAt).toBeLessThan(40);
    await store.getState().resume();
    expect(store.getState().run.phase).toBe('finished');
    expect(series.get('loss').x.at(-1)).toBe(40);
    expect(series.get('loss').x).toHaveLength(40);
    const id = store.getState().runs[0].id;
    await store.getState().downloadAdapter(id, 'f16');
    expect(saved[0].files.map((f) => f.name)).toEqual(['quick-try-adapter.zip']);
    expect(store.getState().runNotes[id]).toMatch(/^Saved/);
  });

  it('says so when another tab holds the run lock, and keeps the last run', async () => {
    const locks = { request: async (_n: string, _o: unknown, cb: (l: null) => unknown) => cb(null) } as unknown as LockManager;
    const { store, series } = setup({ locks });
    await store.getState().loadModel();
    await store.getState().setDataFile(jsonl(5));
    series.append(1, { loss: 1 });
    await store.getState().startTraining();
    expect(store.getState().lockMessage).toBe(LOCK_HELD_MESSAGE);
    expect(store.getState().run.phase).toBe('idle');
    expect(series.get('loss').x).toEqual([1]);
  });

  it('asks for a column mapping when the layout is unknown', async () => {
    const { store } = setup();
    await store.getState().loadModel();
    const odd = Object.assign(new Blob([Array.from({ length: 3 }, (_, i) => JSON.stringify({ src: `s${i}`, good: `g${i}`, bad: `b${i}` })).join('\n')]), { name: 'odd.jsonl' });
    await store.getState().setDataFile(odd);
    expect(store.getState().needsMapping).toBe(true);
    expect(store.getState().columns).toEqual(['src', 'good', 'bad']);
    // Guessed, and shown for the user to confirm.
    expect(store.getState().dataSettings.mapping).toEqual({ source: 'src', chosen: 'good', rejected: 'bad' });
    store.getState().setDataSettings({ mapping: { source: 'src', chosen: 'good', rejected: 'bad', langPair: 'de-en' }, format: 'mapping' });
    await store.getState().loadDataset();
    expect(store.getState().dataInfo?.rowsUsable).toBe(3);
    expect(store.getState().needsMapping).toBe(false);
  });

  it('marks compare unsupported when the engine cannot translate', async () => {
    const { store } = setup({ translate: false });
    store.getState().setCompare({ compareSource: 'Hallo Welt', compareRunId: 'run-001' });
    await store.getState().translate();
    expect(store.getState().compareStatus).toBe('unsupported');
  });

  it('says at once that a pause or stop is coming, and stops a paused run', async () => {
    const { store } = setup({ stepMs: 20 });
    await store.getState().loadModel();
    await store.getState().setDataFile(jsonl(20));
    store.getState().setField('maxSteps', '400');
    const training = store.getState().startTraining();
    // Until the first step, the page says what it waits for (shader compilation), after 'started' and 'running'.
    await new Promise((r) => setTimeout(r, 5));
    expect(store.getState().run).toMatchObject({ phase: 'running', step: 0, message: COMPILING_MESSAGE });
    await new Promise((r) => setTimeout(r, 60));
    expect(store.getState().run.message).toBeNull();
    const pausing = store.getState().pause();
    expect(store.getState().run).toMatchObject({ pending: 'pause', message: expect.stringMatching(/^Pausing after the current step/) });
    await pausing;
    await training;
    expect(store.getState().run).toMatchObject({ phase: 'paused', pending: null });
    await store.getState().stop();
    expect(store.getState().run.phase).toBe('stopped');
    // Stored so by the engine (markStopped), not only remembered by this page: a reload lists it stopped.
    const rec = store.getState().runs[0];
    expect(rec.status).toBe('stopped');
    expect(listedStatus(store.getState(), rec)).toBe('stopped');
    expect(unfinishedRuns(store.getState())).toEqual([]);
  });

  it("reads 'finishing' (not 'Finished') while the engine's end-of-run check holds the run, and 'finished' once train() returns", async () => {
    const engine = new FakeEngine({ stepMs: 2, loadMs: 5 });
    // The real engine says 'finished' when the last step is saved, then decodes its generation check.
    let release!: () => void;
    const checked = new Promise<void>((r) => (release = r));
    const train = engine.train.bind(engine);
    engine.train = async (...a) => {
      const rec = await train(...a);
      await checked;
      return rec;
    };
    const { store } = setup({ engine });
    await store.getState().loadModel();
    await store.getState().setDataFile(jsonl(20));
    store.getState().setField('maxSteps', '3');
    const training = store.getState().startTraining();
    await expect.poll(() => store.getState().run.phase).toBe('finishing');
    expect(store.getState().run.message).toBe(FINISHING_MESSAGE);
    expect(isActive('finishing')).toBe(true); // Start stays blocked, leaving the page warns
    await store.getState().stop(); // nothing left to stop
    expect(store.getState().run.pending).toBeNull();
    release();
    await training;
    expect(store.getState().run).toMatchObject({ phase: 'finished', step: 3, message: null });
  });

  it('a pause or stop clicked while the run recovers from a lost GPU is sent to the engine and stays pending until it applies', async () => {
    for (const action of ['pause', 'stop'] as const) {
      const engine = new FakeEngine({ stepMs: 5, loadMs: 5 });
      let back!: () => void;
      const reopened = new Promise<void>((r) => (back = r));
      const asked: string[] = [];
      for (const m of ['pause', 'stop'] as const) {
        const f = engine[m].bind(engine);
        engine[m] = async () => (asked.push(m), f());
      }
      // As the real engine: a 'recovering' notice, a new device, then the run starts again (and the request,
      // kept by the engine, applies before its first step: tests/faults/engine.test.ts).
      const train = engine.train.bind(engine);
      engine.train = async (config, onEvent, id) => {
        onEvent({ type: 'status', runId: 'run-000', status: 'recovering', message: 'GPU device lost (destroyed); resuming automatically on a new device from its last checkpoint (step 2)' });
        await reopened;
        const rec = train(config, onEvent, id);
        await engine[action]();
        return rec;
      };
      const { store } = setup({ engine });
      await store.getState().loadModel();
      await store.getState().setDataFile(jsonl(20));
      store.getState().setField('maxSteps', '400');
      const training = store.getState().startTraining();
      await expect.poll(() => store.getState().run.phase).toBe('recovering');
      await store.getState()[action]();
      expect(asked).toEqual([action]);
      expect(store.getState().run).toMatchObject({ phase: 'recovering', pending: action, message: action === 'pause' ? PAUSE_RECOVERING_MESSAGE : STOP_RECOVERING_MESSAGE });
      back();
      // Back on the new device, before the engine has applied it: still pending, still said.
      await expect.poll(() => store.getState().run.phase).toBe('running');
      expect(store.getState().run).toMatchObject({ pending: action, message: action === 'pause' ? PAUSE_RECOVERING_MESSAGE : STOP_RECOVERING_MESSAGE });
      await training;
      expect(store.getState().run).toMatchObject({ phase: action === 'pause' ? 'paused' : 'stopped', pending: null });
    }
  });

  it('names a new run apart from stored ones, and keeps the end-of-run results and samples', async () => {
    expect(uniqueRunName('quick-try', ['quick-try', 'quick-try-2'])).toBe('quick-try-3');
    expect(uniqueRunName('mine', ['quick-try'])).toBe('mine');
    const { store } = setup({ stepMs: 1 });
    await store.getState().loadModel();
    await store.getState().setDataFile(jsonl(20));
    store.getState().setField('maxSteps', '3');
    await store.getState().startTraining();
    await store.getState().startTraining();
    expect(store.getState().runs.map((r) => r.name).sort()).toEqual(['quick-try', 'quick-try-2']);
    const { lastEval, samples } = store.getState().run;
    // The eval loss and the generation scores of the same step are one record, as the engine stores them.
    expect(lastEval?.metrics).toEqual(store.getState().runs.find((r) => r.name === 'quick-try-2')!.evalScores);
    expect(lastEval?.metrics).toMatchObject({ eval_loss: expect.any(Number), 'gen/chrf2_adapter': expect.any(Number) });
    expect(samples).toHaveLength(2);
    // The samples are stored with the run: its record carries them, and viewing it later (after a reload) shows them.
    const first = store.getState().runs.find((r) => r.name === 'quick-try')!;
    expect(first.evalSamples).toEqual(samples);
    store.setState({ run: { ...store.getState().run, samples: null } });
    await store.getState().viewRun(first.id);
    expect(store.getState().run).toMatchObject({ runId: first.id, samples: first.evalSamples });
  });

  it('calls a run stored as running that no page trains interrupted, and lets it resume', async () => {
    const engine = new FakeEngine({ stepMs: 1, loadMs: 1 });
    const store = createStudioStore({ engine, series: new SeriesStore() });
    const rec = { id: 'run-9', name: 'cut-short', status: 'running' as const, step: 4, totalSteps: 30, createdAt: 1, updatedAt: 2, config: store.getState().config, modelName: 'tiny-demo', modelFingerprint: '', datasetName: 'd.jsonl', datasetFingerprint: '' };
    (engine as unknown as { runs: Map<string, typeof rec> }).runs.set(rec.id, rec);
    await store.getState().refreshRuns();
    expect(listedStatus(store.getState(), store.getState().runs[0])).toBe('interrupted');
    expect(unfinishedRuns(store.getState()).map((r) => r.id)).toEqual(['run-9']);
    await store.getState().viewRun('run-9');
    expect(store.getState().run).toMatchObject({ runId: 'run-9', phase: 'paused', step: 4 });
  });
});
