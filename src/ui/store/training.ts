// The run configuration form and the live run. Per-step metrics go to the series store; only coarse
// progress (step, tokens, ETA) reaches zustand, throttled, so React re-renders a few times a second at most.
import type { RunConfig, RunEvent, RunRecord } from '../../engine/types.ts';
import { RunMeter, tokensSeen } from '../lib/meter.ts';
import { DEFAULT_PRESET, presetConfig } from '../lib/presets.ts';
import { LOCK_HELD_MESSAGE, withRunLock } from '../lib/runlock.ts';
import { throttle } from '../lib/throttle.ts';
import { FIELD_BY_KEY, checkNumber } from '../lib/validate.ts';
import { isActive, resumeBlockers, sameLengths, startBlockers } from './selectors.ts';
import { errorMessage, type SliceCreator } from './types.ts';
import type { RunPhase, ListedStatus, RunView, TrainingSlice } from './slices.ts';

export type { RunPhase, ListedStatus, RunView, TrainingSlice };

export const IDLE_RUN: RunView = {
  runId: null,
  phase: 'idle',
  step: 0,
  totalSteps: 0,
  tokens: 0,
  etaMs: undefined,
  lastMetrics: null,
  lastEval: null,
  samples: null,
  pending: null,
  lastCheckpoint: null,
  message: null,
  config: null,
};

export const PHASE_WORDS: Record<ListedStatus, string> = {
  idle: 'Not started',
  starting: 'Starting…',
  running: 'Training',
  recovering: 'Recovering (GPU lost)',
  finishing: 'Checking translations…',
  paused: 'Paused',
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  finished: 'Finished',
  failed: 'Failed',
};

/** What a new run does before its first step, said while it happens (13 s on SwiftShader with no word before). */
export const STARTING_MESSAGE = 'Preparing the first step: tokenized pairs to the GPU, then compiling the GPU shaders (the first step takes longest).';
export const COMPILING_MESSAGE = 'Running the first step: the GPU shaders are compiled as they are first used (about 10 s on a software GPU, once per page).';
export const PAUSE_RECOVERING_MESSAGE = 'Pausing once the run is back on a new GPU device, before its next step (it is saved at its last checkpoint)…';
export const STOP_RECOVERING_MESSAGE = 'Stopping once the run is back on a new GPU device, before its next step (it is saved at its last checkpoint)…';
export const FINISHING_MESSAGE = 'Training is done; the end-of-run check now translates held-out prompts with and without the adapter (chrF, BLEU). The results appear when it is done.';
export const RESUMING_MESSAGE = 'Loading the checkpoint (LoRA weights and optimizer state), then compiling the GPU shaders for the next step…';

/** `name`, or `name-2`, `name-3`… when a stored run already has it. */
export function uniqueRunName(name: string, taken: string[]): string {
  const used = new Set(taken);
  if (!used.has(name)) return name;
  const stem = name.replace(/-\d+$/, '');
  for (let i = 2; ; i++) if (!used.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

/** A start refused before the engine began (the data could not be made ready): nothing failed. */
class NotStarted extends Error {}

export const createTrainingSlice: SliceCreator<TrainingSlice> = (deps) => (set, get) => {
  const meter = { current: new RunMeter() };
  // What changed since the last flush; applied at most every progressIntervalMs.
  const pendingRef: { current: Partial<RunView> } = { current: {} };
  const progress = throttle(() => {
    const { run } = get();
    const next = { ...run, ...pendingRef.current };
    pendingRef.current = {};
    set({ run: { ...next, etaMs: meter.current.etaMs(next.step, next.totalSteps, next.lastMetrics?.step_time_ms) } });
  }, deps.progressIntervalMs ?? 250);

  const patchRun = (patch: Partial<RunView>) => set((s) => ({ run: { ...s.run, ...patch } }));
  /** The engine's message with its 'finished' status, shown once train() has returned. */
  let finishedMessage: string | null = null;

  const onEvent = (e: RunEvent) => {
    switch (e.type) {
      case 'started':
        meter.current.resetClock();
        progress.cancel();
        pendingRef.current = {};
        // A pause or stop asked for while the run recovered keeps its note: it applies before the first step.
        patchRun({ runId: e.runId, phase: 'running', step: e.step, totalSteps: e.totalSteps, message: get().run.pending ? get().run.message : COMPILING_MESSAGE });
        break;
      case 'step':
        deps.series.appendMetrics(e.metrics);
        meter.current.onStep(e.metrics);
        pendingRef.current = { ...pendingRef.current, step: e.metrics.step, totalSteps: e.totalSteps, tokens: meter.current.tokens, lastMetrics: e.metrics };
        if (get().run.message === COMPILING_MESSAGE) pendingRef.current.message = null;
        progress();
        break;
      // Evals and checkpoints ride the same throttle: on a fast GPU they can come every few steps.
      case 'eval':
        deps.series.append(e.step, Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [k.startsWith('eval') ? k : `eval/${k}`, v])));
        {
          const prev = pendingRef.current.lastEval ?? get().run.lastEval;
          const merged = prev && prev.step === e.step ? { ...prev.metrics, ...e.metrics } : e.metrics;
          pendingRef.current = { ...pendingRef.current, lastEval: { step: e.step, metrics: merged }, ...(e.samples ? { samples: e.samples } : {}) };
        }
        progress();
        break;
      case 'checkpoint':
        pendingRef.current = { ...pendingRef.current, lastCheckpoint: { step: e.step, bytes: e.bytes } };
        progress();
        break;
      case 'status':
        progress.flush();
        if (e.status === 'finished') {
          // train() has not returned yet: the engine's generation check runs after this (minutes on a software
          // GPU), holding the run lock. 'finished' shows once train() returns, with the engine's own message.
          finishedMessage = e.message ?? null;
          patchRun({ phase: 'finishing', message: e.message ? `${e.message} ${FINISHING_MESSAGE}` : FINISHING_MESSAGE, etaMs: undefined, pending: null });
          break;
        }
        // 'running' without a message follows 'started' at once: it keeps the note of what the first step waits for.
        // A pause or stop asked for stays pending through a device-loss recovery (the engine applies it after).
        patchRun({ phase: e.status, message: e.message ?? (e.status === 'running' ? get().run.message : null), ...(e.status === 'running' ? {} : { etaMs: undefined, pending: e.status === 'recovering' ? get().run.pending : null }) });
        break;
    }
  };

  /**
   * The engine trains on the dataset as it was tokenized: cut to the run's max lengths. When those changed
   * since the file was read (or a resumed run used others), the file is read again first.
   */
  const dataFor = async (config: RunConfig, resume?: RunRecord) => {
    const lengths = { maxLength: config.maxLength, maxPromptLength: config.maxPromptLength };
    if (!sameLengths(get().dataLengths, lengths)) {
      patchRun({ message: `Reading the dataset again, cut to ${lengths.maxLength} tokens (prompt ${lengths.maxPromptLength})…` });
      await get().loadDataset(lengths);
      const { dataStatus, dataError, dataInfo } = get();
      if (dataStatus !== 'ready' || !dataInfo) throw new NotStarted(`The dataset could not be read again: ${dataError ?? 'unknown error'}`);
      if (dataInfo.trainPairs === 0) throw new NotStarted(`The dataset has no usable training pairs at max length ${lengths.maxLength} (prompt ${lengths.maxPromptLength}).`);
      patchRun({ message: null });
    }
    const info = get().dataInfo;
    if (resume && info && resume.datasetFingerprint && info.fingerprint !== resume.datasetFingerprint) {
      throw new NotStarted(`The loaded dataset (${info.name}) is not the one ${resume.name} was trained on (${resume.datasetName}, with the same split settings): load that file on the Data screen, then resume.`);
    }
  };

  return {
    config: presetConfig(DEFAULT_PRESET),
    drafts: {},
    run: IDLE_RUN,
    lockMessage: null,
    applyPreset(name) {
      const c = presetConfig(name);
      set((s) => ({ config: { ...c, quant: s.quant }, drafts: {} }));
    },
    setField(key, raw) {
      const { value, error } = checkNumber(FIELD_BY_KEY[key], raw);
      set((s) => ({
        drafts: { ...s.drafts, [key]: raw },
        // Out-of-range numbers still go into the config so cross-field checks see them; Start stays off.
        config: value !== undefined || !error ? { ...s.config, [key]: value, preset: 'custom' } : s.config,
      }));
    },
    setConfig: (patch) => set((s) => ({ config: { ...s.config, ...patch, preset: patch.preset ?? 'custom' } })),

    async startTraining(opts) {
      const s = get();
      const resume = opts?.resume;
      if (isActive(s.run.phase)) return;
      if (!resume && startBlockers(s).length) return;
      // A new run never shares a stored run's name: the name is how Runs, downloads and recipes tell runs apart.
      const config: RunConfig = resume ? resume.config : { ...s.config, quant: s.quant, name: uniqueRunName(s.config.name, s.runs.map((r) => r.name)) };
      if (resume) {
        const why = resumeBlockers(s, resume);
        if (why.length) {
          set((st) => ({ run: { ...st.run, message: `Cannot resume ${resume.name} yet. ${why.join(' ')}` }, runNotes: { ...st.runNotes, [resume.id]: why.join(' ') } }));
          return;
        }
      }
      set({ lockMessage: null });
      try {
        // The lock is taken before anything is reset, so a refused start leaves the last run's charts alone.
        const res = await withRunLock(async () => {
          if (!resume) {
            deps.series.clear();
            meter.current = new RunMeter();
            set({ run: { ...IDLE_RUN, phase: 'starting', config, message: STARTING_MESSAGE } });
          } else {
            if (get().run.runId !== resume.id) {
              const history = await deps.engine.runHistory(resume.id).catch(() => []);
              meter.current = new RunMeter();
              meter.current.tokens = tokensSeen(history);
              deps.series.load(history);
            }
            set({ run: { ...get().run, runId: resume.id, phase: 'starting', pending: null, config, step: resume.step, totalSteps: resume.totalSteps, tokens: meter.current.tokens, lastMetrics: resume.lastMetrics ?? get().run.lastMetrics, message: RESUMING_MESSAGE } });
          }
          await dataFor(config, resume);
          return deps.engine.train(config, onEvent, resume?.id);
        }, deps.locks);
        if (!res.acquired) {
          set({ lockMessage: LOCK_HELD_MESSAGE });
          return;
        }
        progress.flush();
        const rec = res.value;
        const wasFinishing = get().run.phase === 'finishing';
        patchRun({ runId: rec.id, phase: rec.status, step: rec.step, totalSteps: rec.totalSteps, etaMs: undefined, ...(rec.lastMetrics ? { lastMetrics: rec.lastMetrics } : {}), ...(wasFinishing ? { message: finishedMessage } : {}) });
      } catch (e) {
        progress.flush();
        // Refused before the engine started: the run is as it was (a resumed one stays paused).
        if (e instanceof NotStarted) patchRun({ phase: !resume ? 'idle' : resume.status === 'running' ? 'paused' : resume.status, message: e.message, etaMs: undefined });
        else patchRun({ phase: 'failed', message: errorMessage(e), etaMs: undefined });
      } finally {
        void get().refreshRuns();
      }
    },
    async pause() {
      const { phase, pending } = get().run;
      if ((phase !== 'running' && phase !== 'recovering') || pending) return;
      // The engine pauses between steps (seconds on a big model): say so at once. A recovering run (a lost GPU)
      // is paused once it is back on the new device, before its next step.
      patchRun({ pending: 'pause', message: phase === 'recovering' ? PAUSE_RECOVERING_MESSAGE : 'Pausing after the current step, then saving a checkpoint…' });
      await deps.engine.pause().catch((e) => patchRun({ pending: null, message: `Pause failed: ${errorMessage(e)}` }));
    },
    async resume() {
      const { run, runs } = get();
      if (!run.runId || run.phase !== 'paused') return;
      const rec = runs.find((r) => r.id === run.runId);
      const config = run.config ?? rec?.config;
      if (!config) return;
      await get().startTraining({
        resume: rec ?? { id: run.runId, name: config.name, status: 'paused', step: run.step, totalSteps: run.totalSteps, createdAt: 0, updatedAt: 0, config, modelName: '', modelFingerprint: '', datasetName: '', datasetFingerprint: '' },
      });
    },
    async stop() {
      const { run } = get();
      if (run.phase === 'paused' && run.runId) {
        // No training loop to stop: the engine marks the checkpoint stopped, so a reload lists it so. The
        // checkpoint stays (Runs can still resume or export it).
        if (run.pending === 'stop') return;
        patchRun({ pending: 'stop', message: 'Marking the run stopped in its checkpoint…' });
        try {
          await deps.engine.markStopped(run.runId);
          patchRun({ phase: 'stopped', pending: null, message: `Stopped at step ${run.step}. Its checkpoint is kept: download the adapter, or resume it from Runs.` });
        } catch (e) {
          patchRun({ pending: null, message: `Stop failed: ${errorMessage(e)}` });
        }
        await get().refreshRuns();
        return;
      }
      // A finishing run has no steps left to stop: its generation check ends on its own.
      if (!isActive(run.phase) || run.phase === 'finishing' || run.pending === 'stop') return;
      patchRun({ pending: 'stop', message: run.phase === 'recovering' ? STOP_RECOVERING_MESSAGE : 'Stopping after the current step, then saving a checkpoint…' });
      await deps.engine.stop().catch((e) => patchRun({ pending: null, message: `Stop failed: ${errorMessage(e)}` }));
    },
  };
};
