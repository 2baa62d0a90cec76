// Hyperparameter fields, their bounds and the inline messages the form shows. The form keeps what the user
// typed (a draft) apart from the config, so a half-typed "1e-" is an error message, not a lost keystroke.
import type { RunConfig } from '../../engine/types.ts';
import { formatNumber } from './format.ts';

export type NumericKey = {
  [K in keyof RunConfig]: RunConfig[K] extends number ? K : never;
}[keyof RunConfig];

export type FieldGroup = 'LoRA' | 'Loss' | 'Optimizer' | 'Schedule' | 'Batch and length' | 'Run';

export interface NumberField {
  key: NumericKey;
  label: string;
  group: FieldGroup;
  min: number;
  max: number;
  integer?: boolean;
  step?: number;
  hint?: string;
}

export const NUMBER_FIELDS: NumberField[] = [
  { key: 'r', label: 'LoRA rank r', group: 'LoRA', min: 1, max: 256, integer: true },
  { key: 'alpha', label: 'LoRA alpha', group: 'LoRA', min: 0.01, max: 4096, hint: 'scale = alpha / r (or / √r with rsLoRA)' },
  { key: 'dropout', label: 'LoRA dropout', group: 'LoRA', min: 0, max: 0.9, step: 0.01 },
  { key: 'beta', label: 'Beta', group: 'Loss', min: 0.001, max: 10, step: 0.01, hint: 'preference temperature' },
  { key: 'cpoAlpha', label: 'CPO alpha (NLL weight)', group: 'Loss', min: 0, max: 10, step: 0.1, hint: '0 drops the behaviour-cloning term' },
  { key: 'labelSmoothing', label: 'Label smoothing', group: 'Loss', min: 0, max: 0.49, step: 0.01 },
  { key: 'simpoGamma', label: 'SimPO gamma', group: 'Loss', min: 0, max: 10, step: 0.1, hint: 'used by the simpo loss only' },
  { key: 'lr', label: 'Learning rate', group: 'Optimizer', min: 1e-7, max: 1, step: 1e-5 },
  { key: 'weightDecay', label: 'Weight decay', group: 'Optimizer', min: 0, max: 1, step: 0.01 },
  { key: 'beta1', label: 'Adam beta1', group: 'Optimizer', min: 0, max: 0.9999, step: 0.01 },
  { key: 'beta2', label: 'Adam beta2', group: 'Optimizer', min: 0, max: 0.99999, step: 0.001 },
  { key: 'eps', label: 'Adam epsilon', group: 'Optimizer', min: 1e-12, max: 1e-3 },
  { key: 'maxGradNorm', label: 'Max grad norm', group: 'Optimizer', min: 0, max: 1000, step: 0.1, hint: '0 turns clipping off' },
  { key: 'warmupRatio', label: 'Warmup ratio', group: 'Schedule', min: 0, max: 1, step: 0.01 },
  { key: 'warmupSteps', label: 'Warmup steps', group: 'Schedule', min: 0, max: 1_000_000, integer: true, hint: 'overrides the ratio when above 0' },
  { key: 'epochs', label: 'Epochs', group: 'Schedule', min: 0.01, max: 100, step: 1 },
  { key: 'maxSteps', label: 'Max steps', group: 'Schedule', min: 0, max: 1_000_000, integer: true, hint: '0: run the epochs' },
  { key: 'batchSize', label: 'Batch size (pairs)', group: 'Batch and length', min: 1, max: 64, integer: true },
  { key: 'gradAccum', label: 'Gradient accumulation', group: 'Batch and length', min: 1, max: 1024, integer: true },
  { key: 'maxLength', label: 'Max length (tokens)', group: 'Batch and length', min: 16, max: 8192, integer: true },
  { key: 'maxPromptLength', label: 'Max prompt length (tokens)', group: 'Batch and length', min: 8, max: 8192, integer: true },
  { key: 'evalEvery', label: 'Evaluate every (steps)', group: 'Run', min: 0, max: 1_000_000, integer: true, hint: '0: never' },
  { key: 'checkpointEvery', label: 'Checkpoint every (steps)', group: 'Run', min: 0, max: 1_000_000, integer: true, hint: '0: only at the end' },
  { key: 'seed', label: 'Seed', group: 'Run', min: 0, max: 2 ** 31 - 1, integer: true },
];

export const FIELD_BY_KEY = Object.fromEntries(NUMBER_FIELDS.map((f) => [f.key, f])) as Record<NumericKey, NumberField>;

export type Drafts = Partial<Record<NumericKey, string>>;
export type ConfigErrors = Partial<Record<keyof RunConfig, string>>;

function fmtBound(v: number): string {
  return Math.abs(v) > 0 && Math.abs(v) < 1e-3 ? v.toExponential().replace(/\.0+e/, 'e').replace('e+', 'e') : formatNumber(v, 6);
}

/** Parses a typed value; returns the message when it is not acceptable for the field. */
export function checkNumber(field: NumberField, raw: string): { value?: number; error?: string } {
  const s = raw.trim();
  if (s === '') return { error: `${field.label} is required` };
  const v = Number(s);
  if (!Number.isFinite(v)) return { error: `${field.label} must be a number` };
  if (v < field.min || v > field.max) return { value: v, error: `${field.label} must be between ${fmtBound(field.min)} and ${fmtBound(field.max)}` };
  if (field.integer && !Number.isInteger(v)) return { value: v, error: `${field.label} must be a whole number` };
  return { value: v };
}

export function validateConfig(config: RunConfig, drafts: Drafts = {}): ConfigErrors {
  const errors: ConfigErrors = {};
  for (const f of NUMBER_FIELDS) {
    const raw = drafts[f.key] ?? String(config[f.key]);
    const { error } = checkNumber(f, raw);
    if (error) errors[f.key] = error;
  }
  if (!errors.maxPromptLength && !errors.maxLength && config.maxPromptLength >= config.maxLength) {
    errors.maxPromptLength = 'Max prompt length must be less than max length';
  }
  const name = config.name.trim();
  if (!name) errors.name = 'Run name is required';
  else if (name.length > 80) errors.name = 'Run name must be at most 80 characters';
  if (config.targets !== 'all-linear' && config.targets.length === 0) errors.targets = 'Pick at least one target module';
  if (config.loss !== 'sigmoid' && config.loss !== 'simpo' && config.labelSmoothing > 0 && !errors.labelSmoothing) {
    errors.labelSmoothing = 'Label smoothing applies to the sigmoid and simpo losses only';
  }
  return errors;
}

export function hasErrors(e: ConfigErrors): boolean {
  return Object.keys(e).length > 0;
}
