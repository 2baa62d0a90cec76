// The studio's engine worker: owns the GPU and the run; the page talks to it through protocol.ts.
// Each request names a StudioEngine method; callbacks (progress, run events) come back as progress replies.
import { LocalEngine } from '../engine/local.ts';
import type { StudioEngine } from '../engine/types.ts';
import { IdbRunStore } from '../train/idb-store.ts';
import { serializeError, type Reply, type Request } from './protocol.ts';

const engine = new LocalEngine(new IdbRunStore(), import.meta.env.BASE_URL);

type Method = keyof StudioEngine;
// The methods whose last argument is a callback, and where it sits.
const CALLBACK_ARG: Partial<Record<Method, number>> = { loadModel: 2, loadDataset: 2, train: 1 };

function post(r: Reply, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(r, transfer);
}

self.onmessage = async (ev: MessageEvent<Request<Method, unknown[]>>) => {
  const { id, kind, args } = ev.data;
  try {
    const fn = engine[kind] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (typeof fn !== 'function') throw new Error(`unknown request ${String(kind)}`);
    const list = [...(args ?? [])];
    const at = CALLBACK_ARG[kind];
    if (at !== undefined) list[at] = (data: unknown) => post({ id, type: 'progress', data });
    const value = await fn.apply(engine, list);
    post({ id, type: 'return', value });
  } catch (e) {
    post({ id, type: 'throw', error: serializeError(e) });
  }
};
