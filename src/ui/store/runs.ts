// Past and current runs as the engine stores them.
import { downloadAdapter, safeFileStem } from '../lib/download.ts';
import { peftZip } from '../lib/peft-zip.ts';
import { tokensSeen } from '../lib/meter.ts';
import { isActive, resumeBlockers } from './selectors.ts';
import { errorMessage, type SliceCreator } from './types.ts';
import type { RunsSlice } from './slices.ts';

export type { RunsSlice };

export const createRunsSlice: SliceCreator<RunsSlice> = (deps) => (set, get) => {
  const note = (id: string, msg: string) => set((s) => ({ runNotes: { ...s.runNotes, [id]: msg } }));
  return {
    runs: [],
    runsStatus: 'idle',
    runsError: null,
    runNotes: {},
    busyRunId: null,
    peftBase: {},
    setPeftBase: (id, base) => set((s) => ({ peftBase: { ...s.peftBase, [id]: base } })),
    async refreshRuns() {
      set({ runsStatus: 'loading' });
      try {
        const runs = await deps.engine.listRuns();
        runs.sort((a, b) => b.updatedAt - a.updatedAt);
        set({ runs, runsStatus: 'ready', runsError: null });
      } catch (e) {
        set({ runsStatus: 'error', runsError: errorMessage(e) });
      }
    },
    async deleteRun(id) {
      if (get().run.runId === id && isActive(get().run.phase)) {
        note(id, 'Stop the run before deleting it.');
        return;
      }
      set({ busyRunId: id });
      try {
        await deps.engine.deleteRun(id);
        set((s) => ({ runs: s.runs.filter((r) => r.id !== id) }));
      } catch (e) {
        note(id, `Delete failed: ${errorMessage(e)}`);
      } finally {
        set({ busyRunId: null });
      }
    },
    async downloadAdapter(id, dtype) {
      const rec = get().runs.find((r) => r.id === id);
      set({ busyRunId: id });
      note(id, 'Preparing the adapter…');
      try {
        if (!rec) throw new Error(`no stored run ${id}`);
        const exported = await deps.engine.exportAdapter(id, dtype);
        const base = get().peftBase[id]?.trim() || rec.modelName;
        const zip = peftZip(exported, rec, `${safeFileStem(rec.name)}-adapter`, base);
        const names = await (deps.save ?? downloadAdapter)({ files: [zip] }, safeFileStem(rec.name));
        note(id, `Saved ${names.join(', ')}`);
      } catch (e) {
        note(id, `Export failed: ${errorMessage(e)}`);
      } finally {
        set({ busyRunId: null });
      }
    },
    async exportRecipe(id) {
      const rec = get().runs.find((r) => r.id === id);
      set({ busyRunId: id });
      note(id, 'Preparing the TRL recipe…');
      try {
        const files = await deps.engine.exportRecipe(id);
        const names = await (deps.save ?? downloadAdapter)(files, safeFileStem(rec?.name ?? id));
        note(id, `Saved ${names.join(', ')}: unzip it and run “accelerate launch train_cpo.py” (see its README).`);
      } catch (e) {
        note(id, `Recipe export failed: ${errorMessage(e)}`);
      } finally {
        set({ busyRunId: null });
      }
    },
    async viewRun(id) {
      const rec = get().runs.find((r) => r.id === id);
      if (!rec) return;
      const active = isActive(get().run.phase);
      if (active && get().run.runId !== id) {
        note(id, 'Another run is training; its curves are on the Run screen.');
        return;
      }
      if (!active) {
        let tokens = 0;
        try {
          const history = await deps.engine.runHistory(id);
          deps.series.load(history);
          tokens = tokensSeen(history);
        } catch (e) {
          note(id, `Could not read the history: ${errorMessage(e)}`);
          return;
        }
        set((s) => ({
          run: {
            ...s.run,
            runId: id,
            // A run stored as running that this page is not training was interrupted: it waits to resume, as a paused one does.
            phase: rec.status === 'running' ? 'paused' : rec.status,
            step: rec.step,
            totalSteps: rec.totalSteps,
            lastMetrics: rec.lastMetrics ?? null,
            lastEval: rec.evalScores ? { step: rec.step, metrics: rec.evalScores } : null,
            samples: rec.evalSamples ?? null,
            pending: null,
            config: rec.config,
            etaMs: undefined,
            message: null,
            tokens,
          },
        }));
      }
      get().go('run');
    },
    async resumeRun(id) {
      const rec = get().runs.find((r) => r.id === id);
      if (!rec) return;
      const why = resumeBlockers(get(), rec);
      if (why.length) {
        note(id, `To resume: ${why.join(' ')}`);
        return;
      }
      get().go('run');
      await get().startTraining({ resume: rec });
    },
  };
};
