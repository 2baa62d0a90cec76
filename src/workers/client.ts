// The page side of the engine worker: a StudioEngine whose every method is one request over the protocol.
// Callbacks cannot cross postMessage, so each call's callback is kept here and fed by its progress replies.
import type { DataOptions, HubAccess, HubDatasetSpec, ModelSource, Quant, RunConfig, RunEvent, StudioEngine } from '../engine/types.ts';
import type { ParallelOptions } from '../prefs/parallel.ts';
import { RemoteError, type Reply, type Request } from './protocol.ts';

/**
 * The args each request carries: the method's arguments by position, a callback's slot left null (or cut
 * off when it is last), so the worker can put its own callback back at that index. The worker posts what
 * it would have passed to the callback (load progress, run events) as `progress` replies of the request.
 */
export interface EngineArgsMap {
  gpuInfo: [];
  loadModel: [source: ModelSource, quant: Quant];
  loadDataset: [file: Blob & { name?: string }, opts: DataOptions];
  listHubDataset: [repo: string, hub: HubAccess];
  loadHubDataset: [spec: HubDatasetSpec, hub: HubAccess, opts: DataOptions];
  readHubParallel: [spec: HubDatasetSpec, hub: HubAccess, opts: ParallelOptions];
  train: [config: RunConfig, onEvent: null, resumeRunId?: string];
  pause: [];
  stop: [];
  markStopped: [runId: string];
  listRuns: [];
  runHistory: [runId: string];
  deleteRun: [runId: string];
  exportAdapter: [runId: string, dtype: 'f32' | 'f16'];
  exportGguf: [runId: string, dtype: 'f32' | 'f16'];
  exportWeb: [runId: string];
  exportRecipe: [runId: string];
  translate: Parameters<StudioEngine['translate']>;
  prefsCandidates: Parameters<StudioEngine['prefsCandidates']>;
}
export type EngineArgs<K extends keyof StudioEngine> = EngineArgsMap[K];
export type EngineRequest = { [K in keyof StudioEngine]: Request<K, EngineArgs<K>> }[keyof StudioEngine];

/** What the client needs of a Worker; a MessagePort or a test stub will do. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (e: Event) => void): void;
  start?(): void;
  terminate?(): void;
}

/** What a request's progress replies carry: the argument of the callback the page gave that method. */
export interface EngineProgressMap {
  loadModel: Parameters<NonNullable<Parameters<StudioEngine['loadModel']>[2]>>[0];
  loadDataset: Parameters<NonNullable<Parameters<StudioEngine['loadDataset']>[2]>>[0];
  loadHubDataset: Parameters<NonNullable<Parameters<StudioEngine['loadHubDataset']>[3]>>[0];
  readHubParallel: Parameters<NonNullable<Parameters<StudioEngine['readHubParallel']>[3]>>[0];
  exportWeb: Parameters<NonNullable<Parameters<StudioEngine['exportWeb']>[1]>>[0];
  train: RunEvent;
}
export type EngineProgress<K extends keyof StudioEngine> = K extends keyof EngineProgressMap ? EngineProgressMap[K] : never;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** The page's callback; the worker posts exactly what the engine passed to its own (serve.ts). */
  onProgress?: (data: unknown) => void;
}

export class WorkerEngine implements StudioEngine {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set once the worker has died: later calls fail at once rather than wait forever. */
  private dead: RemoteError | null = null;

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (e: MessageEvent) => this.onReply(e.data as Reply));
    worker.addEventListener('error', (e: Event) => {
      const msg = (e as ErrorEvent).message || 'the engine worker failed to start or crashed';
      this.fail(new RemoteError('WorkerError', msg));
    });
    worker.addEventListener('messageerror', () => this.fail(new RemoteError('WorkerError', 'a message from the engine worker could not be read')));
    worker.start?.();
  }

  /** Sends one request; `onProgress` receives the data of its progress replies. */
  call<K extends keyof StudioEngine>(kind: K, args: EngineArgs<K>, onProgress?: (data: EngineProgress<K>) => void): Promise<Awaited<ReturnType<StudioEngine[K]>>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: onProgress && ((d) => onProgress(d as EngineProgress<K>)) });
      const req: Request<K, EngineArgs<K>> = { id, kind, args };
      try {
        this.worker.postMessage(req);
      } catch (e) {
        // A DataCloneError: something in args cannot be posted.
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  terminate(): void {
    this.fail(new RemoteError('WorkerError', 'the engine worker was terminated'));
    this.worker.terminate?.();
  }

  private onReply(r: Reply): void {
    const p = this.pending.get(r?.id);
    if (!p) return; // a late progress message of a settled call
    if (r.type === 'progress') {
      try {
        p.onProgress?.(r.data);
      } catch (e) {
        // A throwing UI callback must not take the RPC down with it.
        console.error(e);
      }
    } else if (r.type === 'return') {
      this.pending.delete(r.id);
      p.resolve(r.value);
    } else if (r.type === 'throw') {
      this.pending.delete(r.id);
      p.reject(new RemoteError(r.error.name, r.error.message, r.error.stack));
    }
  }

  private fail(err: RemoteError): void {
    this.dead = err;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  gpuInfo: StudioEngine['gpuInfo'] = () => this.call('gpuInfo', []);
  loadModel: StudioEngine['loadModel'] = (source, quant, onProgress) => this.call('loadModel', [source, quant], onProgress);
  loadDataset: StudioEngine['loadDataset'] = (file, opts, onProgress) => this.call('loadDataset', [file, opts], onProgress);
  listHubDataset: StudioEngine['listHubDataset'] = (repo, hub) => this.call('listHubDataset', [repo, hub]);
  loadHubDataset: StudioEngine['loadHubDataset'] = (spec, hub, opts, onProgress) => this.call('loadHubDataset', [spec, hub, opts], onProgress);
  readHubParallel: StudioEngine['readHubParallel'] = (spec, hub, opts, onProgress) => this.call('readHubParallel', [spec, hub, opts], onProgress);
  train: StudioEngine['train'] = (config, onEvent, resumeRunId) =>
    this.call('train', resumeRunId === undefined ? [config, null] : [config, null, resumeRunId], onEvent);
  pause: StudioEngine['pause'] = () => this.call('pause', []);
  stop: StudioEngine['stop'] = () => this.call('stop', []);
  markStopped: StudioEngine['markStopped'] = (runId) => this.call('markStopped', [runId]);
  listRuns: StudioEngine['listRuns'] = () => this.call('listRuns', []);
  runHistory: StudioEngine['runHistory'] = (runId) => this.call('runHistory', [runId]);
  deleteRun: StudioEngine['deleteRun'] = (runId) => this.call('deleteRun', [runId]);
  exportAdapter: StudioEngine['exportAdapter'] = (runId, dtype) => this.call('exportAdapter', [runId, dtype]);
  exportGguf: StudioEngine['exportGguf'] = (runId, dtype) => this.call('exportGguf', [runId, dtype]);
  exportWeb: StudioEngine['exportWeb'] = (runId, onProgress) => this.call('exportWeb', [runId], onProgress);
  exportRecipe: StudioEngine['exportRecipe'] = (runId) => this.call('exportRecipe', [runId]);
  translate: StudioEngine['translate'] = (sources, opts) => this.call('translate', [sources, opts]);
  prefsCandidates: StudioEngine['prefsCandidates'] = (rows, batchIndex, opts) => this.call('prefsCandidates', [rows, batchIndex, opts]);
}

export function createWorkerEngine(): WorkerEngine {
  // TEST-ONLY: `?test-faults` in the page's address enables the worker's fault hook (engine.worker.ts).
  const name = /[?&]test-faults\b/.test(globalThis.location?.search ?? '') ? 'cpo-engine test-faults' : 'cpo-engine';
  return new WorkerEngine(new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name }));
}
