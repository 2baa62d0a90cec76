// Answers that read more than one slice (can a run start, can this stored run resume), kept apart from the
// slices so each slice only holds its own state and actions.
import type { RunRecord } from '../../engine/types.ts';
import { DEFAULT_CAPS, planRun, type MemoryPlan, type PlanModel } from '../../train/memory-plan.ts';
import { availableBytes, fitOf, type Fit } from '../lib/memory.ts';
import { catalogModel } from '../lib/models.ts';
import { hasErrors, validateConfig } from '../lib/validate.ts';
import type { DataLengths, ListedStatus, RunPhase } from './slices.ts';
import type { StudioState } from './types.ts';

export function sameLengths(a: DataLengths | null, b: DataLengths): boolean {
  return !!a && a.maxLength === b.maxLength && a.maxPromptLength === b.maxPromptLength;
}

export function isActive(phase: RunPhase): boolean {
  return phase === 'starting' || phase === 'running' || phase === 'recovering' || phase === 'finishing';
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
  else if (!(s.dataFile || s.dataHub) || s.dataStatus !== 'ready' || !s.dataInfo) out.push(`Load its dataset, ${rec.datasetName}, on the Data screen.`);
  if (isActive(s.run.phase)) out.push('Another run is in progress.');
  return out;
}


/**
 * How a stored run reads in the list: this page's live run as its phase; a run stored as running that no
 * page trains (the page was reloaded or closed mid-run) as interrupted; otherwise as stored (a paused run that
 * was stopped is stored stopped: engine.markStopped).
 */
export function listedStatus(s: StudioState, rec: RunRecord): ListedStatus {
  if (s.run.runId === rec.id && isActive(s.run.phase)) return 'running';
  if (rec.status === 'running') return 'interrupted';
  return rec.status;
}

/** Stored runs a reload left half-done: interrupted mid-run, or paused and not stopped. */
export function unfinishedRuns(s: StudioState): RunRecord[] {
  return s.runs.filter((r) => r.step < r.totalSteps && ['interrupted', 'paused'].includes(listedStatus(s, r)));
}

/** The shape the memory plan uses: the loaded model's (as the engine reports it), else the catalog model picked on Start. */
export function planDims(s: StudioState): { dims: PlanModel | null; source: string } {
  if (s.modelInfo?.shape) return { dims: s.modelInfo.shape, source: `${s.modelInfo.name} (loaded)` };
  const m = catalogModel(s.plannedModelId);
  return m ? { dims: m.dims, source: m.label } : { dims: null, source: '' };
}

/**
 * The engine's memory plan (train/memory-plan.ts, the sizes it allocates) for the training settings, or for `what`
 * (a what-if on the Start screen), on this device's capabilities, and whether it fits.
 */
export function memoryPlan(s: StudioState, what: { batchSize?: number; maxLength?: number } = {}): { plan: MemoryPlan; fit: Fit; limit: number } | null {
  const { dims } = planDims(s);
  if (!dims) return null;
  const c = s.config;
  let plan: MemoryPlan;
  try {
    plan = planRun(dims, { quant: s.quant, batchSize: what.batchSize ?? c.batchSize, maxLength: what.maxLength ?? c.maxLength, r: c.r, targets: c.targets, dropout: c.dropout }, s.gpu?.caps ?? DEFAULT_CAPS);
  } catch {
    return null; // settings the form marks in red (an unknown target module, a row wider than a binding)
  }
  const limit = availableBytes(s.deviceMemoryGiB);
  const maxBuffer = s.gpu?.available ? s.gpu.maxBufferSize : 0;
  const fit = maxBuffer > 0 && plan.largestBuffer.bytes > maxBuffer ? 'too-big' : fitOf(plan.peakBytes, limit);
  return { plan, fit, limit };
}

/** The Training step of the sidebar: done only when a run could start with these settings and they fit. */
export function trainingStep(s: StudioState): { state: 'done' | 'todo' | 'problem'; detail: string } {
  if (hasErrors(validateConfig(s.config, s.drafts))) return { state: 'problem', detail: 'fix settings' };
  if (memoryPlan(s)?.fit === 'too-big') return { state: 'problem', detail: 'does not fit in memory' };
  const ready = s.modelStatus === 'ready' && s.dataStatus === 'ready' && (s.dataInfo?.trainPairs ?? 0) > 0;
  return { state: ready ? 'done' : 'todo', detail: ready ? 'ready to start' : 'load a model and data first' };
}
