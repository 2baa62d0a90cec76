// Surviving a lost GPU device (driver reset, the laptop sleeping, a destroyed device) during a run, even in
// the middle of a step. A lost device cannot be revived, and every buffer on it is gone; what survives is the
// last checkpoint in the store. So: release what the dead session held, open a new device, rebuild model and
// adapter from that checkpoint, and run on. The run loop is deterministic (data cursor, dropout seeds by
// step), so the recovered run ends bit-identical to one that was never interrupted (tests/faults/run.test.ts).
// The one loop for every caller: LocalEngine (the studio's worker, the CLI's `train`) and the tests.
import type { RunStatus } from './config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { DeviceLostError, GpuError } from '../gpu/errors.ts';
import type { Checkpoint, RunStore } from './checkpoint.ts';
import type { TrainingRun } from './run.ts';

/** One device's worth of a run: the context, the run built on it, and how to free both. */
export interface RunSession {
  ctx: GpuContext;
  run: TrainingRun;
  /** Frees the run's GPU objects (and the context, where the session owns it); best effort on a lost device. */
  release(): void;
}

export interface RecoveryOptions<S extends RunSession> {
  /** Opens a new device and builds the run on it from `checkpoint` (null: from the start, same run id). */
  open(checkpoint: Checkpoint | null): Promise<S>;
  store: RunStore;
  /** Recoveries allowed before giving up (the studio: 2, the CLI: 1). */
  retries: number;
  /**
   * Tells the user what happened and what is done about it, before the new device is opened (the engine
   * sends it as a 'recovering' status, so a lost device never shows as a failed run that then comes back).
   */
  notice(message: string): void;
  /** Names where a run's checkpoint lives, for the messages (a file path in Node). */
  describeCheckpoint?(runId: string): string;
}

export interface RecoveredRun<S extends RunSession> {
  status: RunStatus;
  /** The session the run ended on: the caller's to use (export, generation check) and release. */
  session: S;
  recoveries: number;
}

/**
 * Runs `first` to its end, recovering from device loss up to `retries` times. Owns the sessions: on return
 * the returned one is the caller's to release, on a throw every one has been released.
 */
export async function runRecovering<S extends RunSession>(first: S, o: RecoveryOptions<S>): Promise<RecoveredRun<S>> {
  let session = first;
  let recoveries = 0;
  for (;;) {
    let status: RunStatus | null = null;
    let error: unknown = null;
    try {
      status = await session.run.run();
    } catch (e) {
      error = e;
    }
    const lost = await lostDevice(session.ctx, error);
    if (!lost) {
      if (error) {
        releaseQuietly(session);
        throw error;
      }
      return { status: status!, session, recoveries };
    }
    const runId = session.run.state.runId;
    releaseQuietly(session);
    const ckpt = await o.store.load(runId);
    const from = ckpt ? `its last checkpoint (step ${ckpt.state.step}${o.describeCheckpoint ? `, ${o.describeCheckpoint(runId)}` : ''})` : 'the start (no checkpoint was saved yet)';
    if (recoveries >= o.retries) {
      throw new GpuError('device-lost', `${lost.message}; ${recoveries} recover${recoveries === 1 ? 'y' : 'ies'} tried, giving up. Run ${runId} can resume from ${from}`);
    }
    recoveries++;
    o.notice(`${lost.message}; resuming automatically on a new device from ${from}`);
    session = await o.open(ckpt);
  }
}

function releaseQuietly(s: RunSession): void {
  try {
    s.release();
  } catch {
    /* the device is gone; its objects go with it */
  }
}

/**
 * The loss behind a failed or ended run, if any. A step interrupted by the loss may fail with another error
 * (a readback rejected by the dying device) before the `lost` promise settles, so it gets a moment to.
 */
export async function lostDevice(ctx: GpuContext, error: unknown): Promise<{ message: string } | null> {
  if (!ctx.lost && error !== null) await Promise.race([ctx.device.lost, new Promise((r) => setTimeout(r, 500))]);
  await Promise.resolve();
  const e = ctx.lost ?? (error instanceof DeviceLostError ? error : null);
  if (!e) return null;
  return { message: e.message.replace(/^device-lost: /, '') };
}
