// Answers that read more than one slice (can a run start, can this stored run resume), kept apart from the
// slices so each slice only holds its own state and actions.
import type { RunRecord } from '../../engine/types.ts';
import { hasErrors, validateConfig } from '../lib/validate.ts';
import type { DataLengths } from './data.ts';
import type { RunPhase } from './training.ts';
import type { StudioState } from './types.ts';

export function sameLengths(a: DataLengths | null, b: DataLengths): boolean {
  return !!a && a.maxLength === b.maxLength && a.maxPromptLength === b.maxPromptLength;
}

export function isActive(phase: RunPhase): boolean {
  return phase === 'starting' || phase === 'running';
}

/** Why Start is disabled, in words; empty when a run can start. */
export function startBlockers(s: StudioState): string[] {
  const out: string[] = [];
  if (s.gpu && !s.gpu.available) out.push('WebGPU is not available in this browser.');
  if (s.modelStatus !== 'ready') out.push(s.modelStatus === 'loading' ? 'The model is still loading.' : 'Load a model first.');
  if (s.dataStatus !== 'ready' || !s.dataInfo) out.push(s.dataStatus === 'loading' ? 'The dataset is still being read.' : 'Load a dataset first.');
  else if (s.dataInfo.trainPairs === 0) out.push('The dataset has no usable training pairs.');
  if (hasErrors(validateConfig(s.config, s.drafts))) out.push('Fix the hyperparameters marked in red.');
  if (isActive(s.run.phase)) out.push('A run is already in progress.');
  return out;
}

/**
 * Why a stored run cannot resume yet, in words; empty when it can. The browser keeps a run's checkpoint
 * across reloads, but not the model or the dataset: after a reload both have to be loaded again.
 */
export function resumeBlockers(s: StudioState, rec: RunRecord): string[] {
  const out: string[] = [];
  if (s.gpu && !s.gpu.available) out.push('WebGPU is not available in this browser.');
  if (s.modelStatus === 'loading') out.push('The model is still loading.');
  else if (s.modelStatus !== 'ready' || !s.modelInfo) out.push(`Load the model it was trained on, ${rec.modelName} (${rec.config.quant}), on the Model screen.`);
  else if (rec.modelFingerprint && s.modelInfo.fingerprint !== rec.modelFingerprint) {
    out.push(`The loaded model, ${s.modelInfo.name} (${s.modelInfo.quant}), is not the one it was trained on: load ${rec.modelName} (${rec.config.quant}) on the Model screen.`);
  }
  if (s.dataStatus === 'loading') out.push('The dataset is still being read.');
  else if (!s.dataFile || s.dataStatus !== 'ready' || !s.dataInfo) out.push(`Load its dataset, ${rec.datasetName}, on the Data screen.`);
  if (isActive(s.run.phase)) out.push('Another run is in progress.');
  return out;
}

