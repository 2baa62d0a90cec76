// Run presets. "ALMA-R (paper)" follows the CPO paper's ALMA-13B-R recipe (Xu et al. 2024, and its
// run_cpo scripts); "Quick try" is sized to show a curve move within a minute on a laptop.
import type { RunConfig } from '../../engine/types.ts';

const BASE: RunConfig = {
  name: 'run',
  preset: 'custom',
  r: 16,
  alpha: 32,
  dropout: 0.05,
  targets: ['down_proj'],
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
  batchSize: 1,
  gradAccum: 16,
  epochs: 1,
  maxSteps: 0,
  evalEvery: 0,
  checkpointEvery: 100,
  seed: 42,
  maxLength: 512,
  maxPromptLength: 256,
  quant: 'q4_0',
};

export const PRESETS: Record<string, RunConfig> = {
  'ALMA-R (paper)': { ...BASE, name: 'alma-r', preset: 'ALMA-R (paper)' },
  'Quick try': {
    ...BASE,
    name: 'quick-try',
    preset: 'Quick try',
    r: 8,
    alpha: 16,
    dropout: 0,
    targets: 'all-linear',
    lr: 5e-4,
    weightDecay: 0,
    schedule: 'constant',
    warmupRatio: 0,
    batchSize: 2,
    gradAccum: 1,
    maxSteps: 30,
    evalEvery: 10,
    checkpointEvery: 10,
    maxLength: 128,
    maxPromptLength: 64,
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);
export const DEFAULT_PRESET = 'Quick try';

export function presetConfig(name: string): RunConfig {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset ${name}`);
  return structuredClone(p);
}
