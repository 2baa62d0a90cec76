// The training vocabulary: a run's settings, the schedules, one step's metrics and the events a run emits.
// It lives here, below the engine, because the training loop (run.ts, checkpoint.ts, schedule.ts, presets.ts,
// recipe.ts) speaks it; src/engine/types.ts re-exports it for the front doors.
import type { Projection, Quant } from '../model/projections.ts';
import { resolveTargets, type LoraConfig } from '../model/lora.ts';
import type { LossType } from './losses.ts';

export const SCHEDULES = ['constant', 'linear', 'cosine', 'inverse_sqrt'] as const;

export type Schedule = (typeof SCHEDULES)[number];

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

/** 'recovering': the GPU device was lost and the run resumes on a new one (train/recover.ts); never saved. */
export type RunStatus = 'running' | 'recovering' | 'paused' | 'stopped' | 'finished' | 'failed';

/** One prompt of the end-of-run generation check: the reference (the chosen answer) and both outputs. */
export interface EvalSample {
  prompt: string;
  reference: string;
  base: string;
  adapter: string;
}

export type RunEvent =
  | { type: 'started'; runId: string; totalSteps: number; step: number }
  | { type: 'step'; runId: string; metrics: StepMetrics; totalSteps: number }
  | { type: 'eval'; runId: string; step: number; metrics: Record<string, number>; samples?: EvalSample[] }
  | { type: 'checkpoint'; runId: string; step: number; bytes: number }
  | { type: 'status'; runId: string; status: RunStatus; message?: string };

/**
 * A run's LoRA fields as the model's LoRA settings: the one translation every entrance uses (a new run, a
 * checkpoint's adapter for translation, the export). Unknown target names are refused here, naming them.
 */
export function loraSettings(c: Pick<RunConfig, 'r' | 'alpha' | 'targets' | 'useRslora'> & { dropout?: number }): LoraConfig {
  const targets = c.targets === 'all-linear' ? 'all-linear' : resolveTargets(c.targets as Projection[]);
  return { r: c.r, alpha: c.alpha, dropout: c.dropout ?? 0, targets, useRslora: c.useRslora };
}
