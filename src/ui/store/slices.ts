// The state each slice adds to the studio store, as types only: slice creators (compare.ts, data.ts, …) and
// types.ts's StudioState import them from here, so no slice module and types.ts import each other (no cycle).
import type { DatasetInfo, EvalSample, LoadProgress, GpuInfo, HubDatasetSpec, HubParquetListing, ModelInfo, ModelSource, Quant, RunConfig, RunRecord, RunStatus, StepMetrics, WebExport } from '../../engine/types.ts';
import type { CandidateOptions, ParallelReport, ParallelRow, PrefRecord, PrefsMetric, PrefsStats, RejectRule } from '../../prefs/index.ts';
import type { Drafts, NumericKey } from '../lib/validate.ts';

/** Coarse progress of a load (model, dataset), as the engine reports it. */
export type Progress = LoadProgress;

// compare.ts
export interface CompareSlice {
  compareSource: string;
  srcLang: string;
  tgtLang: string;
  compareRunId: string | null;
  compareStatus: 'idle' | 'running' | 'done' | 'error' | 'unsupported';
  compareResult: { base: string; adapter: string } | null;
  compareError: string | null;
  setCompare(patch: Partial<Pick<CompareSlice, 'compareSource' | 'srcLang' | 'tgtLang' | 'compareRunId'>>): void;
  translate(): Promise<void>;
}

// data.ts
export interface DataSettings {
  /** '' = detect. */
  format: string;
  mapping: Record<string, string> | null;
  evalFraction: number;
  seed: number;
}

export interface DataSlice {
  dataFile: (Blob & { name?: string }) | null;
  /** A Hub dataset split instead of a file (read in the worker); at most one of dataFile and dataHub is set. */
  dataHub: HubDatasetSpec | null;
  dataSettings: DataSettings;
  dataStatus: 'idle' | 'loading' | 'ready' | 'error';
  dataProgress: Progress | null;
  dataInfo: DatasetInfo | null;
  dataError: string | null;
  /** The format could not be detected: the column mapping is needed. */
  needsMapping: boolean;
  columns: string[];
  /** The token limits the loaded dataset was cut to; a run with other limits needs it read again. */
  dataLengths: DataLengths | null;
  setDataFile(file: Blob & { name?: string }): Promise<void>;
  /** Reads a Hub dataset split (downloaded into the Cache API, or found there) as the dataset. */
  setDataHub(spec: HubDatasetSpec): Promise<void>;
  /** A Hub dataset's configs and splits, with the session's token (for the Hub dataset inputs). */
  listHubDataset(repo: string): Promise<HubParquetListing>;
  setDataSettings(patch: Partial<DataSettings>): void;
  /** Reads the file; cut to `lengths` if given, else to the run settings' max lengths. */
  loadDataset(lengths?: DataLengths): Promise<void>;
}

export interface DataLengths {
  maxLength: number;
  maxPromptLength: number;
}

// exports.ts
/** The web export's check of one run, as the Runs screen shows it. */
export type WebCheckView =
  | { status: 'checking' }
  | { status: 'passed'; check: WebExport['check']; sizes: Record<string, number> }
  | { status: 'refused'; message: string };

export interface ExportsSlice {
  /** Per run, this session. */
  webChecks: Record<string, WebCheckView>;
  /** Progress of the web export in flight (one at a time: busyRunId). */
  exportProgress: Progress | null;
  /** Saves the adapter as one GGUF LoRA file (llama.cpp, Ollama); needs the run's base model loaded. */
  downloadGguf(id: string, dtype: 'f32' | 'f16'): Promise<void>;
  /** Exports base + merged adapter for transformers.js, checks it in onnxruntime-web, and saves the zip if it passed. */
  downloadWeb(id: string): Promise<void>;
}

// gpu.ts
export interface GpuSlice {
  gpu: GpuInfo | null;
  gpuStatus: 'idle' | 'checking' | 'done';
  /** Set when the answer came from the page's own probe, with why the engine did not answer. */
  gpuEngineNote: string | null;
  deviceMemoryGiB: number | undefined;
  checkGpu(): Promise<void>;
}

// model.ts
export type ModelChoice = 'demo' | 'hub' | 'files' | 'gguf';

export interface ModelSlice {
  modelChoice: ModelChoice;
  hubId: string;
  /** A Hub access token for gated repositories; '' for none. */
  hubToken: string;
  rememberHubToken: boolean;
  modelFiles: File[];
  ggufFile: File | null;
  quant: Quant;
  /** The catalog model used for the memory estimate until a model is loaded. */
  plannedModelId: string;
  modelStatus: 'idle' | 'loading' | 'ready' | 'error';
  modelProgress: Progress | null;
  modelInfo: ModelInfo | null;
  modelError: string | null;
  setModelChoice(c: ModelChoice): void;
  setHubId(id: string): void;
  setHubToken(token: string, remember: boolean): void;
  setModelFiles(files: File[]): void;
  setQuant(q: Quant): void;
  setPlannedModel(id: string): void;
  modelSource(): ModelSource | null;
  loadModel(): Promise<void>;
}

// nav.ts
export type Screen = 'start' | 'model' | 'data' | 'training' | 'run' | 'runs' | 'compare';

export interface NavSlice {
  screen: Screen;
  go(screen: Screen): void;
}

// prefs.ts
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

export interface PrefsProgress {
  done: number;
  total: number;
  etaMs: number | null;
  stats: PrefsStats;
}

export interface PrefsSlice {
  prefsFile: (Blob & { name?: string }) | null;
  /** Parallel text from a Hub dataset split instead of a file; at most one of prefsFile and prefsHub is set. */
  prefsHub: HubDatasetSpec | null;
  /** Download and read progress of a Hub split. */
  prefsReadProgress: Progress | null;
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
  setPrefsHub(spec: HubDatasetSpec): Promise<void>;
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

// runs.ts
export interface RunsSlice {
  runs: RunRecord[];
  runsStatus: 'idle' | 'loading' | 'ready' | 'error';
  runsError: string | null;
  /** Per-run messages (download finished, delete failed…). */
  runNotes: Record<string, string>;
  busyRunId: string | null;
  /** base_model_name_or_path per run, where the user typed one (a model not from the Hub). */
  peftBase: Record<string, string>;
  setPeftBase(id: string, base: string): void;
  refreshRuns(): Promise<void>;
  deleteRun(id: string): Promise<void>;
  /** Saves the adapter as one zip of a PEFT folder. */
  downloadAdapter(id: string, dtype: 'f32' | 'f16'): Promise<void>;
  /** Saves the run as a TRL recipe zip (the run's dataset must be loaded). */
  exportRecipe(id: string): Promise<void>;
  /** Shows a finished or paused run's curves on the Run screen. */
  viewRun(id: string): Promise<void>;
  resumeRun(id: string): Promise<void>;
}

// training.ts
/** 'finishing': the engine said 'finished', and its end-of-run generation check still decodes (the run lock held). */
export type RunPhase = 'idle' | 'starting' | 'finishing' | RunStatus;
/** How a stored run reads in the list: 'interrupted' is a run stored as running that no page is training. */
export type ListedStatus = RunPhase | 'interrupted';

export interface RunView {
  runId: string | null;
  phase: RunPhase;
  step: number;
  totalSteps: number;
  tokens: number;
  etaMs: number | undefined;
  lastMetrics: StepMetrics | null;
  /** The latest eval, with the end-of-run generation scores merged into the eval of the same step. */
  lastEval: { step: number; metrics: Record<string, number> } | null;
  /** The end-of-run check's outputs (this session only: they are not stored with the run). */
  samples: EvalSample[] | null;
  /** Pause or Stop was asked for; the engine acts at the end of the current step. */
  pending: 'pause' | 'stop' | null;
  lastCheckpoint: { step: number; bytes: number } | null;
  message: string | null;
  /** The config the current run was started with (Resume reuses it). */
  config: RunConfig | null;
}

export interface TrainingSlice {
  config: RunConfig;
  drafts: Drafts;
  run: RunView;
  lockMessage: string | null;
  applyPreset(name: string): void;
  setField(key: NumericKey, raw: string): void;
  setConfig(patch: Partial<RunConfig>): void;
  startTraining(opts?: { resume?: RunRecord }): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}
