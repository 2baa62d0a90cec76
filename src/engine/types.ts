// The studio engine's interface. The in-process engine (Node CLI, tests) and the worker client (browser)
// implement the same interface, so everything above it is testable without a worker.
import type { LossType } from '../train/losses.ts';

export interface GpuInfo {
  available: boolean;
  adapter: string;
  f16: boolean;
  subgroups: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Why WebGPU is missing, and how to enable it. */
  message?: string;
}

export type Quant = 'none' | 'q8_0' | 'q4_0' | 'f16';

export type ModelSource =
  | { kind: 'demo' }
  | { kind: 'hub'; id: string; revision?: string; token?: string }
  | { kind: 'files'; files: File[] } // a dropped Hugging Face folder
  | { kind: 'gguf'; file: File }
  | { kind: 'path'; path: string }; // Node only

export interface ModelInfo {
  name: string;
  architecture: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  vocab: number;
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
}

export type Schedule = 'constant' | 'linear' | 'cosine' | 'inverse_sqrt';

export interface RunConfig {
  name: string;
  preset: string;
  // LoRA
  r: number;
  alpha: number;
  dropout: number;
  targets: string[] | 'all-linear';
  useRslora: boolean;
  // loss
  loss: LossType;
  beta: number;
  cpoAlpha: number;
  labelSmoothing: number;
  simpoGamma: number;
  // optimisation
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  schedule: Schedule;
  warmupRatio: number;
  warmupSteps: number;
  maxGradNorm: number;
  batchSize: number; // pairs per micro-batch
  gradAccum: number;
  epochs: number;
  maxSteps: number; // 0: from epochs
  evalEvery: number; // 0: never
  checkpointEvery: number;
  seed: number;
  maxLength: number;
  maxPromptLength: number;
  quant: Quant;
}

/** Metrics of one optimizer step, named as TRL names them. */
export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  nll_loss: number;
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/accuracies': number;
  'rewards/margins': number;
  'logps/chosen': number;
  'logps/rejected': number;
  'logits/chosen': number;
  'logits/rejected': number;
  grad_norm: number;
  learning_rate: number;
  tokens_per_second: number;
  step_time_ms: number;
  gpu_bytes: number;
  skipped?: boolean;
}

export type RunStatus = 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

export type RunEvent =
  | { type: 'started'; runId: string; totalSteps: number; step: number }
  | { type: 'step'; runId: string; metrics: StepMetrics; totalSteps: number }
  | { type: 'eval'; runId: string; step: number; metrics: Record<string, number> }
  | { type: 'checkpoint'; runId: string; step: number; bytes: number }
  | { type: 'status'; runId: string; status: RunStatus; message?: string };

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
}

export interface AdapterFiles {
  files: { name: string; bytes: Uint8Array }[];
}

export interface StudioEngine {
  gpuInfo(): Promise<GpuInfo>;
  loadModel(source: ModelSource, quant: Quant, onProgress?: (p: { loaded: number; total: number; what: string }) => void): Promise<ModelInfo>;
  loadDataset(file: Blob & { name?: string }, opts: DataOptions, onProgress?: (p: { loaded: number; total: number; what: string }) => void): Promise<DatasetInfo>;
  /** Starts a new run (or resumes runId) and resolves when it stops, pauses or finishes. */
  train(config: RunConfig, onEvent: (e: RunEvent) => void, resumeRunId?: string): Promise<RunRecord>;
  pause(): Promise<void>;
  stop(): Promise<void>;
  listRuns(): Promise<RunRecord[]>;
  runHistory(runId: string): Promise<StepMetrics[]>;
  deleteRun(runId: string): Promise<void>;
  exportAdapter(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles>;
  /** The run as a Hugging Face TRL recipe (one zip); needs the run's dataset loaded. */
  exportRecipe(runId: string): Promise<AdapterFiles>;
  translate(sources: string[], opts: { srcLang: string; tgtLang: string; adapterRunId: string | null; maxNewTokens: number }): Promise<string[]>;
}
