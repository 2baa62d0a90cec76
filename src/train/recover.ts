// Surviving a lost GPU device (driver reset, the laptop sleeping, a destroyed device) during a run, even in
// the middle of a step. A lost device cannot be revived, and every buffer on it is gone; what survives is the
// last checkpoint in the store. So: release what the dead session held, open a new device, rebuild model and
// adapter from that checkpoint, and run on. The run loop is deterministic (data cursor, dropout seeds by
// step), so the recovered run ends bit-identical to one that was never interrupted.
import type { RunStatus } from './config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { DeviceLostError, GpuError } from '../gpu/errors.ts';
import type { Checkpoint, RunStore } from './checkpoint.ts';
import type { TrainingRun } from './run.ts';

/** One device's worth of a run: the context, the run built on it, and how to free both. */
export interface RunSession {
  ctx: GpuContext;
  run: TrainingRun;
  /** Frees the run's GPU objects and destroys the context (best effort on a lost device). */
  release(): void;
}

export interface RecoveryOptions {
  /** Opens a new device and builds the run on it from `checkpoint` (null: from the start). */
  open(checkpoint: Checkpoint | null): Promise<RunSession>;
  store: RunStore;
  /** Recoveries allowed before giving up (the CLI: 1). */
  retries: number;
  /** Tells the user what happened and what is done about it. */
  notice(message: string): void;
  /** Names where a run's checkpoint lives, for the final message (a file path in Node). */
  describeCheckpoint?(runId: string): string;
}

export interface RecoveredRun {
  status: RunStatus;
  session: RunSession;
  recoveries: number;
}

/** Runs `first` to its end, recovering from device loss up to `retries` times. */
export async function runRecovering(first: RunSession, o: RecoveryOptions): Promise<RecoveredRun> {
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
      if (error) throw error;
      return { status: status!, session, recoveries };
    }
    const runId = session.run.state.runId;
    try {
      session.release();
    } catch {
      /* the device is gone; its objects go with it */
    }
    const ckpt = await o.store.load(runId);
    const from = ckpt ? `its last checkpoint (step ${ckpt.state.step}${o.describeCheckpoint ? `, ${o.describeCheckpoint(runId)}` : ''})` : 'the start (no checkpoint was saved yet)';
    if (recoveries >= o.retries) {
      throw new GpuError('device-lost', `${lost.message}; ${recoveries} recover${recoveries === 1 ? 'y' : 'ies'} tried, giving up. Run ${runId} can resume from ${from}`);
    }
    recoveries++;
    o.notice(`${lost.message}; recovering on a new device from ${from}`);
    session = await o.open(ckpt);
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
