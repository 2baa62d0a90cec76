// The training loop: micro-batches with gradient accumulation, AdamW with clipping and a schedule,
// evaluation, checkpoints, pause/stop, non-finite step handling. The same code runs in the browser's
// worker and in the Node CLI; only the RunStore and the event sink differ.
import type { RunConfig, RunEvent, RunStatus, StepMetrics } from './config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { PairIds } from '../model/batch.ts';
import type { Lora } from '../model/lora.ts';
import type { Transformer } from '../model/transformer.ts';
import { encodeCheckpoint, restoreLora, snapshotLora, type Checkpoint, type RunState, type RunStore } from './checkpoint.ts';
import type { LossConfig } from './losses.ts';
import { LoraOptimizer } from './optimizer.ts';
import { locateNonFinite } from './diagnose.ts';
import { lrMultiplier, warmupSteps } from './schedule.ts';
import { runMicroBatch, type MicroBatchResult } from './step.ts';

/** Yields micro-batches in a reproducible order; its cursor restores the exact position. */
export interface BatchSource {
  /** The next micro-batch, advancing epochs as needed. */
  next(): PairIds[];
  /** Fractional epoch position, for logs. */
  epoch(): number;
  cursor(): unknown;
  restore(cursor: unknown): void;
  /** Micro-batches per epoch. */
  batchesPerEpoch(): number;
}

export interface RunIdentity {
  runId: string;
  modelName: string;
  modelFingerprint: string;
  datasetName: string;
  datasetFingerprint: string;
}

export const MAX_CONSECUTIVE_SKIPS = 5;

export interface RunOptions {
  /** On a resume whose step budget changed: recompute warmup and decay over the new total instead of keeping
   *  the schedule the run started with (the default, so a resumed run follows the curve it began on). */
  stretchSchedule?: boolean;
  /** The size of the held-out split the eval pairs were taken from, when they are a sample of it (engine/session.ts
   *  caps them): reported as eval_split_pairs beside eval_pairs, so the screen can say the eval was sampled. */
  evalSplitPairs?: number;
}

export function totalSteps(cfg: RunConfig, batchesPerEpoch: number): number {
  if (cfg.maxSteps > 0) return cfg.maxSteps;
  return Math.max(1, Math.ceil((batchesPerEpoch * cfg.epochs) / cfg.gradAccum));
}

/** Each micro-batch's dropout seed: a function of the step, so a resumed or recovered run draws the same masks. */
export function dropoutSeedFor(seed: number, step: number, k: number): number {
  return (seed * 1_000_003 + step * 131 + k) >>> 0;
}

export function lossConfig(cfg: RunConfig): LossConfig {
  return { loss: cfg.loss, beta: cfg.beta, cpoAlpha: cfg.cpoAlpha, labelSmoothing: cfg.labelSmoothing, simpoGamma: cfg.simpoGamma };
}

export class TrainingRun {
  private pauseRequested = false;
  private stopRequested = false;
  private readonly optimizer: LoraOptimizer;
  state: RunState;
  /** The last step whose checkpoint is known to be saved (-1: none yet). */
  savedStep = -1;
  /** Where the first non-finite step's NaN/Inf appeared (see diagnose.ts). */
  nonFiniteWhere: string | null = null;
  /** Set on a resume whose step budget changed: which schedule applies, for the user. */
  scheduleNote: string | null = null;
  private readonly evalSplitPairs: number;

  constructor(
    private readonly ctx: GpuContext,
    private readonly model: Transformer,
    private readonly lora: Lora,
    private readonly train: BatchSource,
    private readonly evalPairs: PairIds[],
    private readonly cfg: RunConfig,
    private readonly store: RunStore,
    private readonly emit: (e: RunEvent) => void,
    id: RunIdentity,
    resume?: Checkpoint,
    opts: RunOptions = {},
  ) {
    this.evalSplitPairs = opts.evalSplitPairs ?? evalPairs.length;
    this.optimizer = new LoraOptimizer(ctx, lora);
    if (resume) {
      const s = resume.state;
      for (const [what, want, got] of [
        ['model', s.modelFingerprint, id.modelFingerprint],
        ['dataset', s.datasetFingerprint, id.datasetFingerprint],
      ] as const) {
        if (want !== got) throw new Error(`cannot resume run ${s.runId}: the ${what} differs from the one it was trained on (fingerprint ${got}, expected ${want})`);
      }
      restoreLora(ctx, lora, resume.tensors);
      train.restore(s.cursor);
      this.state = { ...s, config: { ...s.config, maxSteps: cfg.maxSteps, epochs: cfg.epochs } };
      this.state.totalSteps = totalSteps(cfg, train.batchesPerEpoch());
      this.savedStep = s.step;
      const original = s.scheduleSteps ?? s.totalSteps;
      this.state.scheduleSteps = original;
      if (this.state.totalSteps !== original) {
        const sched = `${s.config.schedule} schedule${s.config.schedule === 'constant' ? '' : ' with its warmup'}`;
        if (opts.stretchSchedule) {
          this.state.scheduleSteps = this.state.totalSteps;
          this.scheduleNote = `the step budget changed from ${original} to ${this.state.totalSteps}: the ${sched} is stretched over ${this.state.totalSteps} steps (asked for), so from step ${s.step} the learning rate follows the new curve`;
        } else {
          const beyond = this.state.totalSteps > original && (s.config.schedule === 'linear' || s.config.schedule === 'cosine') ? `; steps past ${original} run at the schedule's end value (learning rate 0 for ${s.config.schedule})` : '';
          this.scheduleNote = `the step budget changed from ${original} to ${this.state.totalSteps}: the original ${sched} over ${original} steps is kept${beyond}; ask to stretch the schedule (CLI: --stretch-schedule) to recompute it over ${this.state.totalSteps} steps`;
        }
      }
    } else {
      this.state = {
        version: 1,
        runId: id.runId,
        step: 0,
        totalSteps: totalSteps(cfg, train.batchesPerEpoch()),
        scheduleSteps: totalSteps(cfg, train.batchesPerEpoch()),
        cursor: train.cursor(),
        config: cfg,
        modelName: id.modelName,
        modelFingerprint: id.modelFingerprint,
        datasetName: id.datasetName,
        datasetFingerprint: id.datasetFingerprint,
        skippedSteps: 0,
        history: [],
        evals: [],
        createdAt: Date.now(),
        savedAt: Date.now(),
      };
    }
  }

  pause(): void {
    this.pauseRequested = true;
  }

  stop(): void {
    this.stopRequested = true;
  }

  private status(status: RunStatus, message?: string): RunStatus {
    this.emit({ type: 'status', runId: this.state.runId, status, message });
    return status;
  }

  async checkpoint(): Promise<void> {
    this.state.cursor = this.train.cursor();
    this.state.savedAt = Date.now();
    const bytes = encodeCheckpoint({ state: this.state, tensors: await snapshotLora(this.ctx, this.lora) });
    await this.store.save(this.state.runId, bytes, this.state);
    this.savedStep = this.state.step;
    this.emit({ type: 'checkpoint', runId: this.state.runId, step: this.state.step, bytes: bytes.byteLength });
  }

  /**
   * A checkpoint during the run: if the store refuses it (disk full, quota) the stores keep the previous one,
   * so training goes on with a warning and the next checkpoint tries again. Device loss still propagates.
   */
  private async checkpointOrWarn(): Promise<void> {
    try {
      await this.checkpoint();
    } catch (e) {
      if (this.ctx.lost) throw e;
      const last = this.savedStep >= 0 ? `step ${this.savedStep}` : 'none yet';
      this.status('running', `checkpoint at step ${this.state.step} not saved: ${(e as Error).message} (last saved checkpoint: ${last}); training continues and retries at the next checkpoint`);
    }
  }

  /** Runs until the step budget is spent, or pause/stop is requested; checkpoints on the way out. */
  async run(): Promise<RunStatus> {
    const cfg = this.cfg;
    const s = this.state;
    const lossCfg = lossConfig(cfg);
    const scheduleSteps = s.scheduleSteps ?? s.totalSteps;
    const warm = warmupSteps(scheduleSteps, cfg.warmupRatio, cfg.warmupSteps);
    this.emit({ type: 'started', runId: s.runId, totalSteps: s.totalSteps, step: s.step });
    this.status('running', this.scheduleNote ?? undefined);
    // Saved as running at once, so the run is listed from its first second and a reload before its first
    // periodic checkpoint shows it as interrupted instead of losing it.
    s.status = 'running';
    if (s.step === 0) await this.checkpointOrWarn();
    let consecutiveSkips = 0;
    const unlisten = this.ctx.onLost(() => this.stop());
    try {
      while (s.step < s.totalSteps) {
        if (this.stopRequested || this.pauseRequested) break;
        const t0 = performance.now();
        const micro: PairIds[][] = [];
        for (let k = 0; k < cfg.gradAccum; k++) micro.push(this.train.next());
        // The loss is normalised by the whole accumulated batch so k micro-batches equal one batch of k.
        const norm = {
          pairs: micro.reduce((a, m) => a + m.length, 0),
          chosenTokens: micro.reduce((a, m) => a + m.reduce((b, p) => b + p.chosenIds.length, 0), 0),
        };
        const results: MicroBatchResult[] = [];
        for (let k = 0; k < micro.length; k++) {
          const seed = dropoutSeedFor(cfg.seed, s.step, k);
          results.push(await runMicroBatch(this.model, micro[k], lossCfg, norm, { backward: true, accumulate: k > 0, dropoutSeed: seed }));
        }
        const gradNorm = await this.optimizer.gradNorm();
        const loss = results.reduce((a, r) => a + r.loss.loss, 0);
        const lr = cfg.lr * lrMultiplier(cfg.schedule, s.step, scheduleSteps, warm);
        const finite = Number.isFinite(loss) && Number.isFinite(gradNorm);
        if (finite) {
          await this.optimizer.apply(cfg, lr, s.step + 1);
          consecutiveSkips = 0;
        } else {
          if (!this.nonFiniteWhere) {
            const batches = micro.map((pairs, k) => ({ pairs, dropoutSeed: dropoutSeedFor(cfg.seed, s.step, k) }));
            this.nonFiniteWhere = await locateNonFinite(this.ctx, this.model, this.lora, batches, loss);
            this.status('running', `step ${s.step + 1} skipped: its ${Number.isFinite(loss) ? 'gradient' : 'loss'} is not finite; ${this.nonFiniteWhere}`);
          }
          await this.optimizer.zeroGrads();
          s.skippedSteps++;
          consecutiveSkips++;
        }
        s.step++;
        const ms = performance.now() - t0;
        const m = this.metrics(results, norm.pairs, loss, gradNorm, lr, ms, !finite);
        s.history.push(m);
        this.emit({ type: 'step', runId: s.runId, metrics: m, totalSteps: s.totalSteps });
        if (consecutiveSkips >= MAX_CONSECUTIVE_SKIPS) {
          s.status = 'failed';
          await this.checkpointOrWarn();
          return this.status(
            'failed',
            `${consecutiveSkips} steps in a row had a non-finite loss or gradient (step ${s.step}; at the first, ${this.nonFiniteWhere}); lower the learning rate (now ${cfg.lr}), set max_grad_norm (now ${cfg.maxGradNorm}), or shorten max_length (now ${cfg.maxLength}).`,
          );
        }
        if (cfg.evalEvery > 0 && s.step % cfg.evalEvery === 0 && this.evalPairs.length) await this.evaluate();
        if (cfg.checkpointEvery > 0 && s.step % cfg.checkpointEvery === 0 && s.step < s.totalSteps) await this.checkpointOrWarn();
      }
      // Not a 'failed' status: the caller (train/recover.ts) recovers on a new device, or says it gives up.
      if (this.ctx.lost) throw this.ctx.lost;
      // The final status goes into the checkpoint, so a stopped run is not listed as paused.
      s.status = s.step >= s.totalSteps ? 'finished' : this.stopRequested ? 'stopped' : 'paused';
      let saveError: string | null = null;
      try {
        await this.checkpoint();
      } catch (e) {
        if (this.ctx.lost) throw e;
        saveError = `the final checkpoint (step ${s.step}) was not saved: ${(e as Error).message}`;
      }
      if (s.step >= s.totalSteps) {
        if (this.evalPairs.length) await this.evaluate();
        // The trained adapter is still in memory for the caller to export; only resuming would lose steps.
        return this.status('finished', saveError ?? undefined);
      }
      if (saveError) return this.status('failed', `${saveError}; a resume continues from step ${this.savedStep >= 0 ? this.savedStep : 0}`);
      return this.status(this.stopRequested ? 'stopped' : 'paused');
    } finally {
      unlisten();
    }
  }

  /** Forward-only loss and metrics over the eval split, in micro-batches of the training size. */
  async evaluate(): Promise<Record<string, number>> {
    const cfg = this.cfg;
    const pairs = this.evalPairs;
    const norm = { pairs: pairs.length, chosenTokens: pairs.reduce((a, p) => a + p.chosenIds.length, 0) };
    const results: MicroBatchResult[] = [];
    for (let i = 0; i < pairs.length; i += cfg.batchSize) {
      results.push(await runMicroBatch(this.model, pairs.slice(i, i + cfg.batchSize), lossConfig(cfg), norm, { backward: false, accumulate: false, dropoutSeed: null }));
    }
    const loss = results.reduce((a, r) => a + r.loss.loss, 0);
    const m = this.metrics(results, pairs.length, loss, NaN, NaN, 0, false);
    const out: Record<string, number> = {};
    for (const k of ['loss', 'nll_loss', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected'] as const) {
      out[`eval_${k}`] = m[k];
    }
    out.eval_pairs = pairs.length; // how many held-out pairs these numbers are over ...
    out.eval_split_pairs = this.evalSplitPairs; // ... of how many in the split (more: a sample)
    this.state.evals.push({ step: this.state.step, metrics: out });
    this.emit({ type: 'eval', runId: this.state.runId, step: this.state.step, metrics: out });
    return out;
  }

  private metrics(results: MicroBatchResult[], pairs: number, loss: number, gradNorm: number, lr: number, ms: number, skipped: boolean): StepMetrics {
    const sum = (f: (r: MicroBatchResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const tokens = sum((r) => r.tokens);
    const V = this.model.model.cfg.V;
    return {
      step: this.state.step,
      epoch: this.train.epoch(),
      loss,
      nll_loss: sum((r) => r.loss.nll),
      'rewards/chosen': sum((r) => r.loss.sums.rewardsChosen) / pairs,
      'rewards/rejected': sum((r) => r.loss.sums.rewardsRejected) / pairs,
      'rewards/accuracies': sum((r) => r.loss.sums.accuracies) / pairs,
      'rewards/margins': sum((r) => r.loss.sums.margins) / pairs,
      'logps/chosen': sum((r) => r.loss.sums.logpsChosen) / pairs,
      'logps/rejected': sum((r) => r.loss.sums.logpsRejected) / pairs,
      'logits/chosen': sum((r) => r.logitSums.chosen) / (sum((r) => r.logitSums.chosenPositions) * V),
      'logits/rejected': sum((r) => r.logitSums.rejected) / (sum((r) => r.logitSums.rejectedPositions) * V),
      grad_norm: gradNorm,
      learning_rate: lr,
      tokens_per_second: ms > 0 ? tokens / (ms / 1000) : 0,
      step_time_ms: ms,
      gpu_bytes: this.ctx.peakBytes,
      ...(skipped ? { skipped: true } : {}),
    };
  }

  release(): void {
    this.optimizer.release();
  }
}
