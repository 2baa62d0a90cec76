// Run configurations: the defaults, and the named presets the studio and the CLI offer (editable).
import { PROJECTIONS, QUANTS } from '../model/projections.ts';
import { SCHEDULES, type RunConfig } from './config.ts';
import { LOSS_TYPES } from './losses.ts';

export const DEFAULT_RUN: RunConfig = {
  name: 'run',
  preset: 'custom',
  r: 16,
  alpha: 32,
  dropout: 0.05,
  targets: 'all-linear',
  useRslora: false,
  loss: 'sigmoid',
  beta: 0.1,
  cpoAlpha: 1,
  labelSmoothing: 0,
  simpoGamma: 0.5,
  lr: 1e-4,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  schedule: 'inverse_sqrt',
  warmupRatio: 0.01,
  warmupSteps: 0,
  maxGradNorm: 1,
  batchSize: 2,
  gradAccum: 8,
  epochs: 1,
  maxSteps: 0,
  evalEvery: 0,
  checkpointEvery: 25,
  seed: 42,
  maxLength: 512,
  maxPromptLength: 256,
  quant: 'q4_0',
};

export const PRESETS: Record<string, { label: string; description: string; config: Partial<RunConfig> }> = {
  'alma-r': {
    label: 'ALMA-R (paper)',
    description: 'The CPO recipe of ALMA-R: LoRA r 16 on down_proj (~0.1% of the weights), β 0.1, NLL weight 1, lr 1e-4, inverse-sqrt schedule, effective batch 16, 1 epoch.',
    config: {
      preset: 'alma-r',
      r: 16,
      alpha: 32,
      dropout: 0.05,
      targets: ['down_proj'],
      loss: 'sigmoid',
      beta: 0.1,
      cpoAlpha: 1,
      lr: 1e-4,
      weightDecay: 0.01,
      schedule: 'inverse_sqrt',
      warmupRatio: 0.01,
      epochs: 1,
      maxSteps: 0,
      maxLength: 512,
      maxPromptLength: 256,
      batchSize: 2,
      gradAccum: 8,
    },
  },
  quick: {
    label: 'Quick try',
    description: 'A short run for small GPUs: r 8 on every projection, short sequences, 30 steps, constant learning rate.',
    config: {
      preset: 'quick',
      r: 8,
      alpha: 16,
      dropout: 0,
      targets: 'all-linear',
      lr: 5e-4,
      weightDecay: 0,
      schedule: 'constant',
      warmupRatio: 0,
      maxLength: 128,
      maxPromptLength: 96,
      batchSize: 2,
      gradAccum: 1,
      maxSteps: 30,
      checkpointEvery: 10,
    },
  },
};

export function presetConfig(name: string, overrides: Partial<RunConfig> = {}): RunConfig {
  const p = PRESETS[name];
  if (!p && name !== 'custom') throw new Error(`preset: unknown preset ${JSON.stringify(name)} (one of ${Object.keys(PRESETS).join(', ')}, custom)`);
  return { ...DEFAULT_RUN, ...(p?.config ?? {}), ...overrides };
}

/** Every field checked against sensible bounds; the message names the field. */
export function validateRunConfig(c: RunConfig): string[] {
  const errors: string[] = [];
  const check = (ok: boolean, field: string, msg: string) => {
    if (!ok) errors.push(`${field}: ${msg}`);
  };
  const int = (v: number) => Number.isInteger(v);
  check(int(c.r) && c.r >= 1 && c.r <= 512, 'r', `must be an integer in 1..512, got ${c.r}`);
  check(c.alpha > 0 && c.alpha <= 4096, 'alpha', `must be in (0, 4096], got ${c.alpha}`);
  check(c.dropout >= 0 && c.dropout < 1, 'dropout', `must be in [0, 1), got ${c.dropout}`);
  check(c.beta > 0 && c.beta <= 100, 'beta', `must be in (0, 100], got ${c.beta}`);
  check(c.cpoAlpha >= 0 && c.cpoAlpha <= 100, 'cpo_alpha', `must be in [0, 100], got ${c.cpoAlpha}`);
  check(c.labelSmoothing >= 0 && c.labelSmoothing < 0.5, 'label_smoothing', `must be in [0, 0.5), got ${c.labelSmoothing}`);
  check(c.lr >= 1e-7 && c.lr <= 1, 'learning_rate', `must be between 1e-7 and 1, got ${c.lr}`);
  check(c.weightDecay >= 0 && c.weightDecay <= 1, 'weight_decay', `must be in [0, 1], got ${c.weightDecay}`);
  check(c.beta1 >= 0 && c.beta1 < 1, 'adam_beta1', `must be in [0, 1), got ${c.beta1}`);
  check(c.beta2 >= 0 && c.beta2 < 1, 'adam_beta2', `must be in [0, 1), got ${c.beta2}`);
  check(c.eps > 0 && c.eps < 1, 'adam_epsilon', `must be in (0, 1), got ${c.eps}`);
  check(c.warmupRatio >= 0 && c.warmupRatio < 1, 'warmup_ratio', `must be in [0, 1), got ${c.warmupRatio}`);
  check(int(c.warmupSteps) && c.warmupSteps >= 0, 'warmup_steps', `must be a non-negative integer, got ${c.warmupSteps}`);
  check(c.maxGradNorm >= 0, 'max_grad_norm', `must be >= 0 (0 disables clipping), got ${c.maxGradNorm}`);
  check(int(c.batchSize) && c.batchSize >= 1 && c.batchSize <= 256, 'batch_size', `must be an integer in 1..256, got ${c.batchSize}`);
  check(int(c.gradAccum) && c.gradAccum >= 1 && c.gradAccum <= 1024, 'gradient_accumulation_steps', `must be an integer in 1..1024, got ${c.gradAccum}`);
  check(c.epochs > 0 && c.epochs <= 1000, 'epochs', `must be in (0, 1000], got ${c.epochs}`);
  check(int(c.maxSteps) && c.maxSteps >= 0, 'max_steps', `must be a non-negative integer (0: from epochs), got ${c.maxSteps}`);
  check(int(c.maxLength) && c.maxLength >= 8 && c.maxLength <= 32768, 'max_length', `must be an integer in 8..32768, got ${c.maxLength}`);
  check(int(c.maxPromptLength) && c.maxPromptLength >= 1 && c.maxPromptLength < c.maxLength, 'max_prompt_length', `must be an integer in 1..max_length-1, got ${c.maxPromptLength}`);
  check(int(c.seed), 'seed', `must be an integer, got ${c.seed}`);
  check(int(c.evalEvery) && c.evalEvery >= 0, 'eval_steps', `must be a non-negative integer (0: at the end only), got ${c.evalEvery}`);
  check(int(c.checkpointEvery) && c.checkpointEvery >= 0, 'save_steps', `must be a non-negative integer (0: only on pause, stop and finish), got ${c.checkpointEvery}`);
  check(c.simpoGamma >= 0 && c.simpoGamma <= 10, 'simpo_gamma', `must be in [0, 10], got ${c.simpoGamma}`);
  // Settings arrive as JSON from the page or as text from the command line: the named choices are checked too.
  const oneOf = (v: unknown, list: readonly string[], field: string) => check(list.includes(v as string), field, `must be one of ${list.join(', ')}, got ${JSON.stringify(v)}`);
  oneOf(c.loss, LOSS_TYPES, 'loss_type');
  oneOf(c.schedule, SCHEDULES, 'lr_scheduler_type');
  oneOf(c.quant, QUANTS, 'quant');
  if (c.targets !== 'all-linear') {
    const unknown = Array.isArray(c.targets) ? c.targets.filter((t) => !(PROJECTIONS as readonly string[]).includes(t)) : [String(c.targets)];
    check(unknown.length === 0 && c.targets.length > 0, 'target_modules', `must be all-linear or some of ${PROJECTIONS.join(', ')}, got ${JSON.stringify(c.targets)}`);
  }
  return errors;
}
