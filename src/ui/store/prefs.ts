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
  type CandidateOptions,
  type CandidateSource,
  type ParallelReport,
  type ParallelRow,
  type PrefRecord,
  type PrefsMetric,
  type PrefsStats,
  type PrefsStore,
  type RejectRule,
} from '../../prefs/index.ts';
import { errorMessage, type SliceCreator } from './types.ts';

/** The candidate options (the adapter is chosen by run), the reading and the selection, as the form holds them. */
export interface PrefsForm extends Omit<CandidateOptions, 'useLora'> {
  /** '' = every direction in the file (each row's own pair). */
  pair: string;
  /** 'all', '' (none) or comma-separated column names. */
  systems: string;
  batchSize: number;
  metric: PrefsMetric;
  rule: RejectRule;
  margin: number;
  includeReference: boolean;
  /** Decode with a run's adapter; null: the base model. */
  adapterRunId: string | null;
}

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

export interface PrefsProgress {
  done: number;
  total: number;
  etaMs: number | null;
  stats: PrefsStats;
}

export interface PrefsSlice {
  prefsFile: (Blob & { name?: string }) | null;
  prefsRows: ParallelRow[] | null;
  prefsReport: ParallelReport | null;
  prefsForm: PrefsForm;
  prefsStatus: 'idle' | 'reading' | 'ready' | 'previewing' | 'building' | 'paused' | 'done' | 'error';
  prefsError: string | null;
  /** The first sources with their scored candidates, before building everything. */
  prefsPreview: PrefRecord[] | null;
  prefsProgress: PrefsProgress | null;
  prefsRecords: PrefRecord[] | null;
  setPrefsFile(file: Blob & { name?: string }): Promise<void>;
  setPrefsForm(patch: Partial<PrefsForm>): void;
  /** Reads the file again (after the direction or system columns changed). */
  readPrefsFile(): Promise<void>;
  previewPrefs(count?: number): Promise<void>;
  /** Builds every source, continuing saved progress of the same build; fresh: forget it first. */
  buildPrefs(fresh?: boolean): Promise<void>;
  pausePrefs(): void;
  /** The built pairs as the Data screen's dataset (a JSONL file in memory). */
  usePrefs(): Promise<void>;
  /** The built pairs as JSON Lines text. */
  prefsJsonl(): string;
}

export const prefsSettings = (f: PrefsForm): BuildSettings => ({
  metric: f.metric,
  select: { rule: f.rule, margin: f.margin, includeReference: f.includeReference, seed: f.seed },
  candidates: { n: f.n, strategy: f.strategy, temperature: f.temperature, topP: f.topP, seed: f.seed, maxNewTokens: f.maxNewTokens, useLora: f.adapterRunId !== null },
  batchSize: f.batchSize,
});

/** A build's key in the store: one saved build per file name. */
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
  const modelId = () => `${get().modelInfo?.name ?? 'model'}|${get().prefsForm.adapterRunId ?? 'base'}`;
  const builder = (rows: ParallelRow[], st: PrefsStore, key: string) => new PrefsBuilder(rows, source(), prefsSettings(get().prefsForm), st, key, modelId());

  return {
    prefsFile: null,
    prefsRows: null,
    prefsReport: null,
    prefsForm: DEFAULT_PREFS_FORM,
    prefsStatus: 'idle',
    prefsError: null,
    prefsPreview: null,
    prefsProgress: null,
    prefsRecords: null,
    async setPrefsFile(file) {
      set({ prefsFile: file });
      await get().readPrefsFile();
    },
    setPrefsForm: (patch) => set((s) => ({ prefsForm: { ...s.prefsForm, ...patch } })),
    async readPrefsFile() {
      const file = get().prefsFile;
      if (!file || running) return;
      const f = get().prefsForm;
      set({ prefsStatus: 'reading', prefsError: null, prefsPreview: null, prefsProgress: null, prefsRecords: null, prefsRows: null, prefsReport: null });
      try {
        const systems = f.systems.trim() === '' ? undefined : f.systems.trim() === 'all' ? ('all' as const) : f.systems.split(',').map((x) => x.trim()).filter(Boolean);
        const { rows, report } = await readParallel(file, { name: file.name, pair: f.pair.trim() || undefined, columns: { systems } });
        set({ prefsStatus: 'ready', prefsRows: rows, prefsReport: report });
      } catch (e) {
        set({ prefsStatus: 'error', prefsError: errorMessage(e) });
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
        const b = (running = builder(rows, prefsStore(), keyOf(get().prefsFile?.name)));
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
      const stem = (get().prefsFile?.name ?? 'parallel').replace(/\.(jsonl|json|csv|tsv|parquet)(\.gz)?$/i, '');
      const file = Object.assign(new Blob([text], { type: 'application/jsonl' }), { name: `${stem}-prefs.jsonl` });
      await get().setDataFile(file);
    },
  };
};
