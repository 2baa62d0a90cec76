// The recovery loop's decisions, without a GPU: what counts as a lost device, how many retries, what it says.
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/engine/types.ts';
import { DeviceLostError } from '../../src/gpu/errors.ts';
import type { Checkpoint, RunStore } from '../../src/train/checkpoint.ts';
import { runRecovering, type RunSession } from '../../src/train/recover.ts';

/** A session whose run ends with `outcome`; `lose` marks its device lost as the run ends. */
function fake(outcome: RunStatus | Error, lose: boolean): RunSession & { released: boolean } {
  const ctx = { lost: null as DeviceLostError | null, device: { lost: new Promise(() => {}) } };
  const s = {
    ctx: ctx as never,
    released: false,
    run: {
      state: { runId: 'r7' },
      async run() {
        if (lose) ctx.lost = new DeviceLostError('unknown', 'the driver was reset');
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    } as never,
    release() {
      s.released = true;
    },
  };
  return s;
}

const store = (step: number | null): RunStore => ({
  load: async () => (step === null ? null : ({ state: { step } } as Checkpoint)),
  save: async () => {},
  list: async () => [],
  delete: async () => {},
});

describe('device-loss recovery', () => {
  it('a run that ends normally is returned as is', async () => {
    const r = await runRecovering(fake('finished', false), { store: store(3), retries: 1, notice: () => {}, open: async () => fake('finished', false) });
    expect(r).toMatchObject({ status: 'finished', recoveries: 0 });
  });

  it('an error that is not a lost device propagates untouched, the session released', async () => {
    const s = fake(new Error('boom'), false);
    await expect(runRecovering(s, { store: store(3), retries: 1, notice: () => {}, open: async () => fake('finished', false) })).rejects.toThrow(/^boom$/);
    expect(s.released).toBe(true);
  });

  it('lost once: released, reopened from the last checkpoint, finished; the notice says from where', async () => {
    const first = fake(new Error('readback failed'), true);
    const notices: string[] = [];
    let from: Checkpoint | null | undefined;
    const r = await runRecovering(first, {
      store: store(4),
      retries: 1,
      notice: (m) => notices.push(m),
      describeCheckpoint: (id) => `out/checkpoints/${id}.safetensors`,
      open: async (ck) => {
        from = ck;
        return fake('finished', false);
      },
    });
    expect(first.released).toBe(true);
    expect(from?.state.step).toBe(4);
    expect(r).toMatchObject({ status: 'finished', recoveries: 1 });
    expect(notices).toEqual(['GPU device lost (unknown): the driver was reset; resuming automatically on a new device from its last checkpoint (step 4, out/checkpoints/r7.safetensors)']);
  });

  it('lost again after the one retry: gives up, naming the checkpoint to resume from, every session released', async () => {
    const second = fake('failed', true);
    const err = await runRecovering(fake('failed', true), {
      store: store(6),
      retries: 1,
      notice: () => {},
      describeCheckpoint: (id) => `out/checkpoints/${id}.safetensors`,
      open: async () => second,
    }).then(() => null, (e: Error) => e);
    expect(second.released).toBe(true);
    expect(err?.message).toBe('device-lost: GPU device lost (unknown): the driver was reset; 1 recovery tried, giving up. Run r7 can resume from its last checkpoint (step 6, out/checkpoints/r7.safetensors)');
  });

  it('lost before any checkpoint: restarts from the start and says so', async () => {
    const notices: string[] = [];
    let from: Checkpoint | null | undefined;
    await runRecovering(fake('failed', true), { store: store(null), retries: 2, notice: (m) => notices.push(m), open: async (ck) => ((from = ck), fake('finished', false)) });
    expect(from).toBeNull();
    expect(notices[0]).toMatch(/resuming automatically on a new device from the start \(no checkpoint was saved yet\)$/);
  });
});
