// The worker side of the protocol: answers each request on a port by calling the engine method it names,
// putting a callback that posts `progress` replies back where the page's callback was (see client.ts's
// EngineArgsMap). engine.worker.ts serves the LocalEngine with it; tests serve any StudioEngine over a
// MessageChannel, so the dispatch the studio runs is the one under test.
import type { StudioEngine } from '../engine/types.ts';
import { serializeError, type Reply, type Request } from './protocol.ts';

/** What serveEngine needs of a worker scope; a MessagePort will do. */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  start?(): void;
}

type Method = keyof StudioEngine;

/** The methods taking a callback, and its argument index: the page leaves that slot null (or cuts it off). */
export const CALLBACK_ARG: Partial<Record<Method, number>> = { loadModel: 2, loadDataset: 2, loadHubDataset: 3, readHubParallel: 3, train: 1, exportWeb: 1 };

export function serveEngine(port: PortLike, engine: StudioEngine): void {
  port.addEventListener('message', async (ev: MessageEvent<Request<Method, unknown[]>>) => {
    const { id, kind, args } = ev.data;
    const post = (r: Reply) => port.postMessage(r);
    try {
      // Only the interface's own methods: a request naming anything else (a field, a private helper) is refused.
      const fn = isMethod(engine, kind) ? (engine[kind] as (...a: unknown[]) => Promise<unknown>) : undefined;
      if (typeof fn !== 'function') throw new Error(`unknown request ${String(kind)}`);
      const list = [...(args ?? [])];
      const at = CALLBACK_ARG[kind];
      if (at !== undefined) list[at] = (data: unknown) => post({ id, type: 'progress', data });
      const value = await fn.apply(engine, list);
      post({ id, type: 'return', value });
    } catch (e) {
      post({ id, type: 'throw', error: serializeError(e) });
    }
  });
  port.start?.();
}

// Every StudioEngine method, once: the Record makes a method added to the interface a type error here until listed.
const METHOD_SET: Record<Method, true> = { gpuInfo: true, loadModel: true, loadDataset: true, listHubDataset: true, loadHubDataset: true, readHubParallel: true, train: true, pause: true, stop: true, markStopped: true, listRuns: true, runHistory: true, deleteRun: true, exportAdapter: true, exportGguf: true, exportWeb: true, exportRecipe: true, translate: true, prefsCandidates: true };
const isMethod = (engine: StudioEngine, kind: unknown): kind is Method => typeof kind === 'string' && Object.hasOwn(METHOD_SET, kind) && typeof engine[kind as Method] === 'function';
