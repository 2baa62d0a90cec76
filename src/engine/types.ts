// The studio engine's interface. The in-process engine (Node CLI, tests) and the worker client (browser)
// implement the same interface, so everything above it is testable without a worker.
import type { HubDatasetSpec, HubParquetListing } from '../io/hub-datasets.ts';
import type { BatchCandidates, CandidateOptions } from '../prefs/candidates.ts';
import type { ParallelOptions, ParallelRead } from '../prefs/parallel.ts';
import type { ParallelRow } from '../prefs/types.ts';
import type { WebCheckResult } from '../onnx/web-check.ts';
import type { Quant } from '../model/model.ts';
import type { Capabilities } from '../gpu/caps.ts';
import type { PlanModel } from '../train/memory-plan.ts';
import type { EvalSample, RunConfig, RunEvent, RunStatus, StepMetrics } from '../train/config.ts';

// The run vocabulary lives with the training loop (src/train/config.ts); the engine speaks it too.
export type { EvalSample, RunConfig, RunEvent, RunStatus, Schedule, StepMetrics } from '../train/config.ts';
export type { Quant } from '../model/model.ts';
export type { HubDatasetSpec, HubParquetListing } from '../io/hub-datasets.ts';
export type { ParallelRead } from '../prefs/parallel.ts';
export type { WebCheckResult } from '../onnx/web-check.ts';

/**
 * How a Hub request reaches the Hub: the page's token and its settings.hubUrl, sent with each request because
 * the worker has settings of its own (src/settings.ts).
 */
export interface HubAccess {
  token?: string;
  hubUrl?: string;
}

export interface GpuInfo {
  available: boolean;
  adapter: string;
  f16: boolean;
  subgroups: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Why WebGPU is missing, and how to enable it. */
  message?: string;
  /** The device's capabilities, which the memory plan's kernel choices read (absent: WebGPU's defaults are assumed). */
  caps?: Capabilities;
}

export type ModelSource =
  | { kind: 'demo' }
  | { kind: 'hub'; id: string; revision?: string; token?: string; hubUrl?: string }
  | { kind: 'files'; files: File[] } // a dropped Hugging Face folder
  | { kind: 'gguf'; file: File }
  | { kind: 'path'; path: string; /** what PEFT's base_model_name_or_path records (a Hub id); the path if absent */ name?: string }; // Node only

export interface ModelInfo {
  name: string;
  architecture: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  /** FFN size and head dim, so the UI's memory plan uses the model's own shape rather than a guess. */
  intermediate?: number;
  headDim?: number;
  tiedEmbeddings?: boolean;
  /** The shape the engine's memory planner reads (train/memory-plan.ts), so the page plans with the engine's own sizes. */
  shape?: PlanModel;
  quant: Quant;
  baseBytes: number;
  fingerprint: string;
  hasChatTemplate: boolean;
}

export interface DataOptions {
  format?: string; // override the detected row format
  mapping?: Record<string, string>;
  maxLength: number;
  maxPromptLength: number;
  evalFraction: number;
  seed: number;
}

export interface DatasetPreviewRow {
  line: number;
  prompt: string;
  chosen: string;
  rejected: string;
  promptTokens: number;
  chosenTokens: number;
  rejectedTokens: number;
}

export interface DatasetInfo {
  name: string;
  container: string;
  format: string;
  rowsRead: number;
  rowsUsable: number;
  trainPairs: number;
  evalPairs: number;
  fingerprint: string;
  preview: DatasetPreviewRow[];
  /** The validation report as the data layer produces it (JSON). */
  report: unknown;
  reportText: string;
  /** A Hub dataset: the commit its Parquet conversion was read at, and whether the Hub converted only part of the split. */
  hub?: { commit: string; partial: boolean };
}

export interface RunRecord {
  id: string;
  name: string;
  status: RunStatus;
  step: number;
  totalSteps: number;
  createdAt: number;
  updatedAt: number;
  config: RunConfig;
  modelName: string;
  modelFingerprint: string;
  datasetName: string;
  datasetFingerprint: string;
  lastMetrics?: StepMetrics;
  evalScores?: Record<string, number>;
  /** The end-of-run translations, base model and adapter side by side (kept with the run's checkpoint). */
  evalSamples?: EvalSample[];
}

export interface AdapterFiles {
  files: { name: string; bytes: Uint8Array }[];
}

/** The web export (base + merged adapter, transformers.js' layout) as one zip, and the check it passed. */
export interface WebExport extends AdapterFiles {
  /** onnxruntime-web against the engine, on the file checked (see `checked`). */
  check: WebCheckResult & {
    /** 'fp32 file': the downloaded onnx/model.onnx itself; else the same graph with the base rounded as the engine holds it (q4_0…). */
    checked: string;
    prompt: string;
  };
  /** Bytes of each file in the zip, by path. */
  sizes: Record<string, number>;
}

export type ExportProgress = (p: { loaded: number; total: number; what: string }) => void;

/** Progress of a load: `loaded` of `total` in `unit` (bytes when absent), and what is being done ("tokenize", "read FILE", …). */
/** A model load's phase after the weights, counted in pipelines: the shaders still compiling (engine/precompile.ts). */
export const COMPILE_PHASE = 'compile shaders';

export interface LoadProgress {
  loaded: number;
  total: number;
  what: string;
  unit?: 'bytes' | 'rows' | 'pipelines';
}

export interface StudioEngine {
  gpuInfo(): Promise<GpuInfo>;
  loadModel(source: ModelSource, quant: Quant, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo>;
  loadDataset(file: Blob & { name?: string }, opts: DataOptions, onProgress?: (p: LoadProgress) => void): Promise<DatasetInfo>;
  /** The configs, splits and shards of a Hub dataset's Parquet conversion (no model needed). */
  listHubDataset(repo: string, hub: HubAccess): Promise<HubParquetListing>;
  /** A Hub dataset split, downloaded (or found in the cache) and read in the worker, as loadDataset does a file. */
  loadHubDataset(spec: HubDatasetSpec, hub: HubAccess, opts: DataOptions, onProgress?: (p: LoadProgress) => void): Promise<DatasetInfo>;
  /** A Hub dataset split read as parallel text (source, reference, pair) for the preference builder. */
  readHubParallel(spec: HubDatasetSpec, hub: HubAccess, opts: ParallelOptions, onProgress?: (p: { loaded: number; total: number; what: string }) => void): Promise<ParallelRead>;
  /** Starts a new run (or resumes runId) and resolves when it stops, pauses or finishes. */
  train(config: RunConfig, onEvent: (e: RunEvent) => void, resumeRunId?: string): Promise<RunRecord>;
  pause(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Ends a stored run that is not training (paused, or interrupted by a reload): its checkpoint is marked stopped,
   * so every later listing says Stopped. The checkpoint stays (export, or resume it anyway). The run in progress
   * is refused: stop() ends it after its current step.
   */
  markStopped(runId: string): Promise<RunRecord>;
  listRuns(): Promise<RunRecord[]>;
  runHistory(runId: string): Promise<StepMetrics[]>;
  deleteRun(runId: string): Promise<void>;
  exportAdapter(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles>;
  /** The adapter as one GGUF LoRA file for llama.cpp / Ollama; needs the run's base model loaded (its architecture and heads). */
  exportGguf(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles>;
  /** Base + merged adapter for transformers.js / onnxruntime-web, checked in onnxruntime-web first; needs the run's base model loaded. */
  exportWeb(runId: string, onProgress?: ExportProgress): Promise<WebExport>;
  /** The run as a Hugging Face TRL recipe (one zip); needs the run's dataset loaded. */
  exportRecipe(runId: string): Promise<AdapterFiles>;
  translate(sources: string[], opts: { srcLang: string; tgtLang: string; adapterRunId: string | null; maxNewTokens: number }): Promise<string[]>;
  /** The model's candidates for one batch of parallel rows (src/prefs), with a run's adapter or none. */
  prefsCandidates(rows: ParallelRow[], batchIndex: number, opts: CandidateOptions & { adapterRunId: string | null }): Promise<BatchCandidates>;
}
