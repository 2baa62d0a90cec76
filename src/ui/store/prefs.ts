// Building a preference dataset from parallel text in the studio (src/prefs): the file read on the page, the
// model's candidates from the engine (worker), scores and selection here, progress kept in IndexedDB after every
// batch so a pause, a reload or a closed tab resumes where it stopped; the result becomes the Data screen's
// dataset without a download.
import { IdbPrefsStore } from '../../prefs/idb-store.ts';
import {
  MemoryPrefsStore,
  PrefsBuilder,
  readParallel,
  toJsonl,
  type BuildSettings,
  type CandidateSource,
  type ParallelRow,
  type PrefsStore,
} from '../../prefs/index.ts';
import { formatHfDatasetSpec } from '../../io/hub-datasets.ts';
import { hubAccess } from '../lib/hub-access.ts';
import { throttle } from '../lib/throttle.ts';
import { errorMessage, type Progress, type SliceCreator } from './types.ts';
import type { PrefsForm, PrefsProgress, PrefsSlice } from './slices.ts';

export type { PrefsForm, PrefsProgress, PrefsSlice };

export const DEFAULT_PREFS_FORM: PrefsForm = {
  pair: '',
  systems: 'all',
  n: 4,
  strategy: 'sample',
  temperature: 0.8,
  topP: 0.95,
  seed: 0,
  maxNewTokens: 128,
  batchSize: 4,
  metric: 'chrf++',
  rule: 'worst',
  margin: 0,
  includeReference: true,
  adapterRunId: null,
};

export const prefsSettings = (f: PrefsForm): BuildSettings => ({
  metric: f.metric,
  select: { rule: f.rule, margin: f.margin, includeReference: f.includeReference, seed: f.seed },
  candidates: { n: f.n, strategy: f.strategy, temperature: f.temperature, topP: f.topP, seed: f.seed, maxNewTokens: f.maxNewTokens, useLora: f.adapterRunId !== null },
  batchSize: f.batchSize,
});

/** A name to save the result under: the file's without its extension, or a Hub split's NAME-CONFIG-SPLIT. */
export function sourceStem(name: string | undefined): string {
  if (!name) return 'parallel';
  if (name.startsWith('hf://datasets/')) return name.slice('hf://datasets/'.length).split('/').slice(1).join('-').replace(/[^\w.-]+/g, '_');
  return name.replace(/\.(jsonl|json|csv|tsv|parquet)(\.gz)?$/i, '');
}

/** A build's key in the store: one saved build per file name (or Hub split). */
const keyOf = (name: string | undefined) => `build-${(name ?? 'parallel').replace(/[^\w.-]+/g, '_').slice(0, 80)}`;

export const createPrefsSlice: SliceCreator<PrefsSlice> = (deps) => (set, get) => {
  let store: PrefsStore | null = null;
  const prefsStore = () => (store ??= deps.prefsStore ?? (typeof indexedDB !== 'undefined' ? new IdbPrefsStore() : new MemoryPrefsStore()));
  let running: PrefsBuilder | null = null;

  const source = (): CandidateSource => {
    const f = get().prefsForm;
    const s = prefsSettings(f);
    return (rows, batchIndex) => deps.engine.prefsCandidates([...rows], batchIndex, { ...s.candidates, adapterRunId: f.adapterRunId });
  };
  /** The parallel data's name: the file's, or the Hub split's hf://datasets/OWNER/NAME/CONFIG/SPLIT. */
  const sourceName = () => {
    const hub = get().prefsHub;
    return hub ? formatHfDatasetSpec(hub) : get().prefsFile?.name;
  };
  const modelId = () => `${get().modelInfo?.name ?? 'model'}|${get().prefsForm.adapterRunId ?? 'base'}`;
  const builder = (rows: ParallelRow[], st: PrefsStore, key: string) => new PrefsBuilder(rows, source(), prefsSettings(get().prefsForm), st, key, modelId());

  return {
    prefsFile: null,
    prefsHub: null,
    prefsReadProgress: null,
    prefsRows: null,
    prefsReport: null,
    prefsForm: DEFAULT_PREFS_FORM,
    prefsStatus: 'idle',
    prefsError: null,
    prefsPreview: null,
    prefsProgress: null,
    prefsRecords: null,
    async setPrefsFile(file) {
      set({ prefsFile: file, prefsHub: null });
      await get().readPrefsFile();
    },
    async setPrefsHub(spec) {
      set({ prefsHub: spec, prefsFile: null });
      await get().readPrefsFile();
    },
    setPrefsForm: (patch) => set((s) => ({ prefsForm: { ...s.prefsForm, ...patch } })),
    async readPrefsFile() {
      const file = get().prefsFile;
      const hub = get().prefsHub;
      if ((!file && !hub) || running) return;
      const f = get().prefsForm;
      set({ prefsStatus: 'reading', prefsError: null, prefsPreview: null, prefsProgress: null, prefsRecords: null, prefsRows: null, prefsReport: null, prefsReadProgress: null });
      const progress = throttle((p: Progress) => set({ prefsReadProgress: p }), deps.progressIntervalMs ?? 250);
      try {
        const systems = f.systems.trim() === '' ? undefined : f.systems.trim() === 'all' ? ('all' as const) : f.systems.split(',').map((x) => x.trim()).filter(Boolean);
        const opts = { pair: f.pair.trim() || undefined, columns: { systems } };
        // A file is read on the page; a Hub split in the worker, which downloads it into the Cache API.
        const { rows, report } = file ? await readParallel(file, { name: file.name, ...opts }) : await deps.engine.readHubParallel(hub!, hubAccess(get().hubToken), opts, progress);
        progress.cancel();
        if (get().prefsFile !== file || get().prefsHub !== hub) return;
        set({ prefsStatus: 'ready', prefsRows: rows, prefsReport: report, prefsReadProgress: null });
      } catch (e) {
        progress.cancel();
        set({ prefsStatus: 'error', prefsError: errorMessage(e), prefsReadProgress: null });
      }
    },
    async previewPrefs(count = 3) {
      const rows = get().prefsRows;
      if (!rows || running) return;
      set({ prefsStatus: 'previewing', prefsError: null });
      try {
        // The preview's batch 0 is the build's batch 0 when it holds as many sources: the same candidates.
        const b = builder(rows.slice(0, count), new MemoryPrefsStore(), 'preview');
        await b.run();
        set({ prefsStatus: 'ready', prefsPreview: b.records });
      } catch (e) {
        set({ prefsStatus: 'error', prefsError: errorMessage(e) });
      }
    },
    async buildPrefs(fresh = false) {
      const rows = get().prefsRows;
      if (!rows || running) return;
      set({ prefsStatus: 'building', prefsError: null });
      try {
        const b = (running = builder(rows, prefsStore(), keyOf(sourceName())));
        if (fresh) await b.reset();
        await b.resume();
        set({ prefsProgress: { done: b.done, total: rows.length, etaMs: null, stats: { ...b.stats } } });
        const status = await b.run((p) => set({ prefsProgress: { done: p.done, total: p.total, etaMs: p.etaMs, stats: p.stats } }));
        set({ prefsStatus: status === 'done' ? 'done' : 'paused', prefsRecords: status === 'done' ? b.records : null });
      } catch (e) {
        set({ prefsStatus: 'error', prefsError: errorMessage(e) });
      } finally {
        running = null;
      }
    },
    pausePrefs() {
      running?.pause();
    },
    prefsJsonl() {
      const recs = get().prefsRecords;
      return recs ? toJsonl(recs, get().prefsForm.metric) : '';
    },
    async usePrefs() {
      const text = get().prefsJsonl();
      if (!text) return;
      const stem = sourceStem(sourceName());
      const file = Object.assign(new Blob([text], { type: 'application/jsonl' }), { name: `${stem}-prefs.jsonl` });
      await get().setDataFile(file);
    },
  };
};
