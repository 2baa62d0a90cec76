import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/types.ts';
import { WorkerEngine, type WorkerLike } from '../../src/workers/client.ts';
import { RemoteError } from '../../src/workers/protocol.ts';
import { presetConfig } from '../../src/ui/lib/presets.ts';
import { FakeEngine } from './fake-engine.ts';
import { serveEngine } from '../../src/workers/serve.ts';

const open: MessagePort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

function pair(engine = new FakeEngine({ stepMs: 1, loadMs: 10 })) {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  serveEngine(port2 as unknown as MessagePort, engine);
  return new WorkerEngine(port1 as unknown as WorkerLike);
}

describe('WorkerEngine over a MessagePort', () => {
  it('returns values and routes progress to the call that asked', async () => {
    const client = pair();
    expect((await client.gpuInfo()).available).toBe(true);
    const progress: number[] = [];
    const info = await client.loadModel({ kind: 'demo' }, 'q4_0', (p) => progress.push(p.loaded));
    expect(info.name).toBe('tiny-demo');
    // Every event the engine emits arrives, in order (the same engine called directly gives the reference).
    const direct: number[] = [];
    await new FakeEngine({ stepMs: 1, loadMs: 10 }).loadModel({ kind: 'demo' }, 'q4_0', (p) => direct.push(p.loaded));
    expect(direct.length).toBeGreaterThan(5);
    expect(progress).toEqual(direct);
  });

  it('posts Blobs as args', async () => {
    const client = pair();
    await client.loadModel({ kind: 'demo' }, 'q4_0');
    const rows = Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `p${i}`, chosen: `c${i}`, rejected: `r${i}` })).join('\n');
    // Browsers clone a File as a File; Node 20 clones it as a nameless Blob, which the fake engine accepts.
    const file = new File([rows], 'd.jsonl');
    const info = await client.loadDataset(file, { maxLength: 64, maxPromptLength: 32, evalFraction: 0.2, seed: 1 });
    expect(info.rowsUsable).toBe(10);
    expect(info.evalPairs).toBe(2);
  });

  it('delivers run events in order and lets pause end train()', async () => {
    const client = pair(new FakeEngine({ stepMs: 5, loadMs: 1 }));
    await client.loadModel({ kind: 'demo' }, 'q4_0');
    await client.loadDataset(new File(['{"prompt":"a","chosen":"b","rejected":"c"}\n'], 'd.jsonl'), { maxLength: 64, maxPromptLength: 32, evalFraction: 0, seed: 1 });
    const events: RunEvent[] = [];
    const running = client.train({ ...presetConfig('Quick try'), maxSteps: 1000 }, (e) => {
      events.push(e);
      if (e.type === 'step' && e.metrics.step === 3) void client.pause();
    });
    const rec = await running;
    expect(rec.status).toBe('paused');
    expect(events[0].type).toBe('started');
    const steps = events.filter((e) => e.type === 'step').map((e) => (e as { metrics: { step: number } }).metrics.step);
    expect(steps.slice(0, 3)).toEqual([1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'paused' });
  });

  it('sends train args by position with the callback slot empty', () => {
    const sent: unknown[] = [];
    const client = new WorkerEngine({ postMessage: (m) => sent.push(m), addEventListener() {} });
    const cfg = presetConfig('Quick try');
    void client.train(cfg, () => {}, 'run-7');
    void client.loadModel({ kind: 'demo' }, 'f16', () => {});
    expect(sent).toEqual([
      { id: 1, kind: 'train', args: [cfg, null, 'run-7'] },
      { id: 2, kind: 'loadModel', args: [{ kind: 'demo' }, 'f16'] },
    ]);
  });

  it('rethrows worker errors as RemoteError with the message', async () => {
    const client = pair(new FakeEngine({ translate: false }));
    const err = await client.translate(['x'], { srcLang: 'de', tgtLang: 'en', adapterRunId: null, maxNewTokens: 8 }).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toMatch(/not implemented/);
    expect(err.name).toBe('Error');
  });

  it('fails pending and later calls when the worker dies', async () => {
    const listeners: Record<string, ((e: Event) => void)[]> = {};
    const stub: WorkerLike = {
      postMessage() {},
      addEventListener(type: string, fn: (e: never) => void) {
        (listeners[type] ??= []).push(fn as (e: Event) => void);
      },
    };
    const client = new WorkerEngine(stub);
    const pending = client.listRuns();
    for (const fn of listeners.error) fn(Object.assign(new Event('error'), { message: 'boom' }));
    await expect(pending).rejects.toThrow('boom');
    await expect(client.gpuInfo()).rejects.toThrow('boom');
  });

  it('ignores replies for unknown ids and rejects uncloneable args', async () => {
    const client = pair();
    const bad = client.loadModel({ kind: 'path', path: 'x', fn: () => 1 } as never, 'q4_0');
    await expect(bad).rejects.toThrow();
    expect((await client.listRuns()).length).toBe(0);
  });
});
