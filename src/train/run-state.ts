// A checkpoint's run state is read back from a file or IndexedDB that anything may have touched (an
// older build, a disk error, a hand edit). Every field the run loop uses is checked here, so a bad one is
// refused with its name instead of surfacing later as "Cannot read properties of null" or a NaN step.
import { LOSS_TYPES } from './losses.ts';
import { validateRunConfig } from './presets.ts';
import type { EvalSample, RunConfig, RunStatus, StepMetrics } from './config.ts';

/** What a checkpoint records of its run besides the tensors (checkpoint.ts stores it as JSON in __metadata__). */
export interface RunState {
  version: 1;
  runId: string;
  step: number; // optimizer steps completed
  totalSteps: number;
  /** Steps the learning-rate schedule spans (absent in older checkpoints: totalSteps). A resume that changes
   *  the step budget keeps it unless asked to stretch the schedule. */
  scheduleSteps?: number;
  cursor: unknown; // the data batcher's position
  config: RunConfig;
  modelName: string;
  modelFingerprint: string;
  datasetName: string;
  datasetFingerprint: string;
  skippedSteps: number;
  history: StepMetrics[];
  /** Each evaluation's metrics; the end-of-run one also the translations it scored (shown after a reload). */
  evals: { step: number; metrics: Record<string, number>; samples?: EvalSample[] }[];
  /** What the run was doing when this was saved ('running' on a run's first and periodic saves); older checkpoints lack it. */
  status?: RunStatus;
  createdAt: number;
  savedAt: number;
}

const SCHEDULES = ['constant', 'linear', 'cosine', 'inverse_sqrt'];
const QUANTS = ['none', 'q8_0', 'q4_0', 'f16'];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 60) ?? String(v));

/** Problems with a decoded run state, each naming its field; empty when the state can be trusted. */
export function runStateErrors(raw: unknown): string[] {
  if (!isObj(raw)) return [`run_state: expected an object, got ${show(raw)}`];
  const s = raw;
  const errors: string[] = [];
  const need = (ok: boolean, field: string, what: string) => {
    if (!ok) errors.push(`${field}: expected ${what}, got ${show(s[field])}`);
  };
  need(s.version === 1, 'version', '1');
  need(typeof s.runId === 'string' && s.runId.length > 0, 'runId', 'a non-empty string');
  need(isCount(s.step), 'step', 'a non-negative integer');
  need(isCount(s.totalSteps) && (s.totalSteps as number) >= 1, 'totalSteps', 'a positive integer');
  if (s.scheduleSteps !== undefined) need(isCount(s.scheduleSteps) && (s.scheduleSteps as number) >= 1, 'scheduleSteps', 'a positive integer');
  need(isCount(s.skippedSteps), 'skippedSteps', 'a non-negative integer');
  for (const f of ['modelName', 'modelFingerprint', 'datasetName', 'datasetFingerprint']) need(typeof s[f] === 'string', f, 'a string');
  for (const f of ['createdAt', 'savedAt']) need(typeof s[f] === 'number' && Number.isFinite(s[f]), f, 'a time in ms');
  need(Array.isArray(s.history) && s.history.every(isObj), 'history', 'an array of step records');
  need(Array.isArray(s.evals) && s.evals.every((e) => isObj(e) && isCount(e.step) && isObj(e.metrics)), 'evals', 'an array of {step, metrics}');
  need(s.cursor !== undefined && s.cursor !== null, 'cursor', 'the data position');
  if (!isObj(s.config)) errors.push(`config: expected the run's settings, got ${show(s.config)}`);
  else {
    const c = s.config;
    const enumErr = (field: string, allowed: string[]) => {
      if (!allowed.includes(c[field] as string)) errors.push(`config.${field}: expected one of ${allowed.join(', ')}, got ${show(c[field])}`);
    };
    enumErr('loss', LOSS_TYPES);
    enumErr('schedule', SCHEDULES);
    enumErr('quant', QUANTS);
    const targetsOk = c.targets === 'all-linear' || (Array.isArray(c.targets) && c.targets.length > 0 && c.targets.every((t) => typeof t === 'string'));
    if (!targetsOk) errors.push(`config.targets: expected 'all-linear' or module names, got ${show(c.targets)}`);
    const numeric = ['r', 'alpha', 'dropout', 'beta', 'cpoAlpha', 'labelSmoothing', 'simpoGamma', 'lr', 'weightDecay', 'beta1', 'beta2', 'eps', 'warmupRatio', 'warmupSteps', 'maxGradNorm', 'batchSize', 'gradAccum', 'epochs', 'maxSteps', 'evalEvery', 'checkpointEvery', 'seed', 'maxLength', 'maxPromptLength'];
    const bad = numeric.filter((k) => typeof c[k] !== 'number' || !Number.isFinite(c[k]));
    for (const k of bad) errors.push(`config.${k}: expected a finite number, got ${show(c[k])}`);
    if (!bad.length) errors.push(...validateRunConfig(c as never).map((e) => `config.${e}`));
  }
  return errors;
}

/** Throws one message naming the source and every bad field. */
export function checkRunState(raw: unknown, name: string): RunState {
  const errors = runStateErrors(raw);
  if (errors.length) throw new Error(`${name}: the checkpoint's run state is damaged, not resuming from it:\n  ${errors.join('\n  ')}`);
  return raw as RunState;
}

/** The first non-finite value of each tensor, by name (NaN AdamW moments would train on silently). */
export function nonFiniteTensors(tensors: Map<string, Float32Array>): string[] {
  const out: string[] = [];
  for (const [name, t] of tensors) {
    for (let i = 0; i < t.length; i++) {
      if (!Number.isFinite(t[i])) {
        out.push(`${name}[${i}] = ${t[i]}`);
        break;
      }
    }
  }
  return out;
}
