// Hyperparameter fields as the form shows them: label, group, hint, and the engine's name for the field.
// The bounds are the engine's (validateRunConfig in src/train/presets.ts, which also guards the CLI and
// the worker): this module only maps its messages onto the form's fields and words them for the form, e.g.
// "learning_rate: must be between 1e-7 and 1, got 5" → "Learning rate must be between 1e-7 and 1".
// The form keeps what the user typed (a draft) apart from the config, so a half-typed "1e-" is an error
// message, not a lost keystroke.
import type { RunConfig } from '../../engine/types.ts';
import { DEFAULT_RUN, validateRunConfig } from '../../train/presets.ts';

export type NumericKey = {
  [K in keyof RunConfig]: RunConfig[K] extends number ? K : never;
}[keyof RunConfig];

export type FieldGroup = 'LoRA' | 'Loss' | 'Optimizer' | 'Schedule' | 'Batch and length' | 'Run';

export interface NumberField {
  key: NumericKey;
  label: string;
  group: FieldGroup;
  /** The name validateRunConfig (and TRL, and the CLI) uses; absent where the engine sets no bounds. */
  engineName?: string;
  /** A whole number is expected (the message says so before any range). */
  integer?: boolean;
  hint?: string;
}

export const NUMBER_FIELDS: NumberField[] = [
  { key: 'r', label: 'LoRA rank r', group: 'LoRA', engineName: 'r', integer: true },
  { key: 'alpha', label: 'LoRA alpha', group: 'LoRA', engineName: 'alpha', hint: 'scale = alpha / r (or / √r with rsLoRA)' },
  { key: 'dropout', label: 'LoRA dropout', group: 'LoRA', engineName: 'dropout' },
  { key: 'beta', label: 'Beta', group: 'Loss', engineName: 'beta', hint: 'preference temperature' },
  { key: 'cpoAlpha', label: 'CPO alpha (NLL weight)', group: 'Loss', engineName: 'cpo_alpha', hint: '0 drops the behaviour-cloning term' },
  { key: 'labelSmoothing', label: 'Label smoothing', group: 'Loss', engineName: 'label_smoothing' },
  { key: 'simpoGamma', label: 'SimPO gamma', group: 'Loss', hint: 'used by the simpo loss only' },
  { key: 'lr', label: 'Learning rate', group: 'Optimizer', engineName: 'learning_rate' },
  { key: 'weightDecay', label: 'Weight decay', group: 'Optimizer', engineName: 'weight_decay' },
  { key: 'beta1', label: 'Adam beta1', group: 'Optimizer', engineName: 'adam_beta1' },
  { key: 'beta2', label: 'Adam beta2', group: 'Optimizer', engineName: 'adam_beta2' },
  { key: 'eps', label: 'Adam epsilon', group: 'Optimizer', engineName: 'adam_epsilon' },
  { key: 'maxGradNorm', label: 'Max grad norm', group: 'Optimizer', engineName: 'max_grad_norm', hint: '0 turns clipping off' },
  { key: 'warmupRatio', label: 'Warmup ratio', group: 'Schedule', engineName: 'warmup_ratio' },
  { key: 'warmupSteps', label: 'Warmup steps', group: 'Schedule', engineName: 'warmup_steps', integer: true, hint: 'overrides the ratio when above 0' },
  { key: 'epochs', label: 'Epochs', group: 'Schedule', engineName: 'epochs' },
  { key: 'maxSteps', label: 'Max steps', group: 'Schedule', engineName: 'max_steps', integer: true, hint: '0: run the epochs' },
  { key: 'batchSize', label: 'Batch size (pairs)', group: 'Batch and length', engineName: 'batch_size', integer: true },
  { key: 'gradAccum', label: 'Gradient accumulation', group: 'Batch and length', engineName: 'gradient_accumulation_steps', integer: true },
  { key: 'maxLength', label: 'Max length (tokens)', group: 'Batch and length', engineName: 'max_length', integer: true },
  { key: 'maxPromptLength', label: 'Max prompt length (tokens)', group: 'Batch and length', engineName: 'max_prompt_length', integer: true },
  { key: 'evalEvery', label: 'Evaluate every (steps)', group: 'Run', integer: true, hint: '0: never' },
  { key: 'checkpointEvery', label: 'Checkpoint every (steps)', group: 'Run', integer: true, hint: '0: only at the end' },
  { key: 'seed', label: 'Seed', group: 'Run', engineName: 'seed', integer: true },
];

export const FIELD_BY_KEY = Object.fromEntries(NUMBER_FIELDS.map((f) => [f.key, f])) as Record<NumericKey, NumberField>;
const FIELD_BY_ENGINE_NAME = new Map(NUMBER_FIELDS.filter((f) => f.engineName).map((f) => [f.engineName!, f]));

export type Drafts = Partial<Record<NumericKey, string>>;
export type ConfigErrors = Partial<Record<keyof RunConfig, string>>;

/** "must be an integer in 1..512, got 600" → "must be an integer from 1 to 512". */
function wordEngineMessage(msg: string): string {
  return msg
    .replace(/,\s*got .*$/, '')
    .replace(/ in (-?[\d.e+-]+)\.\.(-?[\w.+-]+)/, (_, a: string, b: string) => ` from ${a} to ${b.replace('max_length-1', 'max length − 1')}`)
    .replace(/\s*\(0: from epochs\)/, '');
}

/** validateRunConfig's messages for one config, keyed by the form's field. */
function engineErrors(config: RunConfig): Map<NumericKey, string> {
  const out = new Map<NumericKey, string>();
  for (const e of validateRunConfig(config)) {
    const at = e.indexOf(': ');
    const f = FIELD_BY_ENGINE_NAME.get(e.slice(0, at));
    if (f && !out.has(f.key)) out.set(f.key, `${f.label} ${wordEngineMessage(e.slice(at + 2))}`);
  }
  return out;
}

/** Fields the engine sets no bounds on: steps counters that must not be negative. */
function uiOnlyError(field: NumberField, v: number): string | undefined {
  if (field.engineName) return undefined;
  if (v < 0) return `${field.label} must be 0 or more`;
  return undefined;
}

// A config every field of which passes, to judge one field alone (max_length high, so any prompt length fits).
const PROBE: RunConfig = { ...DEFAULT_RUN, maxLength: 32768, maxPromptLength: 256 };

/** Parses a typed value; returns the message when it is not acceptable for the field. */
export function checkNumber(field: NumberField, raw: string): { value?: number; error?: string } {
  const s = raw.trim();
  if (s === '') return { error: `${field.label} is required` };
  const v = Number(s);
  if (!Number.isFinite(v)) return { error: `${field.label} must be a number` };
  if (field.integer && !Number.isInteger(v)) return { value: v, error: `${field.label} must be a whole number` };
  const error = uiOnlyError(field, v) ?? engineErrors({ ...PROBE, [field.key]: v }).get(field.key);
  return error ? { value: v, error } : { value: v };
}

export function validateConfig(config: RunConfig, drafts: Drafts = {}): ConfigErrors {
  const errors: ConfigErrors = {};
  // What was typed first: a draft that is not a number never reached the config.
  for (const f of NUMBER_FIELDS) {
    const raw = drafts[f.key];
    const typed = raw !== undefined ? checkNumber(f, raw) : Number.isFinite(config[f.key]) ? {} : { error: `${f.label} must be a number` };
    if (typed.error) errors[f.key] = typed.error;
  }
  // Then the engine's own check of the whole config, cross-field rules included.
  for (const [key, msg] of engineErrors(config)) {
    if (errors[key]) continue;
    errors[key] = key === 'maxPromptLength' && config.maxPromptLength >= config.maxLength ? 'Max prompt length must be less than max length' : msg;
  }
  for (const f of NUMBER_FIELDS) {
    const e = !errors[f.key] && uiOnlyError(f, config[f.key]);
    if (e) errors[f.key] = e;
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
