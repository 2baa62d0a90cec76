// Runs kept in IndexedDB (idb-keyval). Each run has two checkpoint slots; a save writes the slot not in use
// and only then flips the run's pointer, so a failure mid-write (quota exceeded, tab closed) leaves the
// previous checkpoint readable. Each IndexedDB put is its own transaction: a tab closed during one leaves
// the old value. Quota errors are reported with the sizes involved. A slot that does not decode (damaged
// storage) falls back to the other slot, the checkpoint before it.
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { decodeCheckpoint, fmtBytes, type Checkpoint, type RunState, type RunStore } from './checkpoint.ts';

interface Pointer {
  slot: 0 | 1;
  state: RunState;
}

/** The key-value operations the store needs; tests replace them to fail at each stage of a save. */
export interface KeyValue {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  keys(): Promise<IDBValidKey[]>;
}

export function idbKeyValue(dbName = 'cpo-studio', storeName = 'runs'): KeyValue {
  const db: UseStore = createStore(dbName, storeName);
  return { get: (k) => get(k, db), set: (k, v) => set(k, v, db), del: (k) => del(k, db), keys: () => keys(db) };
}

export class IdbRunStore implements RunStore {
  private readonly kv: KeyValue;
  /** Warnings from the last load (a damaged slot passed over), for the UI to show. */
  lastLoadWarning: string | null = null;

  constructor(dbName: string | KeyValue = 'cpo-studio', storeName = 'runs') {
    this.kv = typeof dbName === 'string' ? idbKeyValue(dbName, storeName) : dbName;
  }

  async save(runId: string, checkpoint: Uint8Array, state: RunState): Promise<void> {
    const prev = await this.kv.get<Pointer>(`run:${runId}`);
    const slot: 0 | 1 = prev ? (prev.slot === 0 ? 1 : 0) : 0;
    try {
      await this.kv.set(`ckpt:${runId}:${slot}`, checkpoint);
      await this.kv.set(`run:${runId}`, { slot, state: { ...state } } satisfies Pointer);
    } catch (e) {
      if (!isQuotaError(e)) throw e;
      let quota = '';
      try {
        const est = await (globalThis as { navigator?: Navigator }).navigator?.storage?.estimate?.();
        if (est) quota = ` (the browser reports ${fmtBytes(est.usage ?? 0)} used of ${fmtBytes(est.quota ?? 0)})`;
      } catch {
        /* estimate is best effort */
      }
      // The half-written slot is the one not in use; dropping it returns its space.
      await this.kv.del(`ckpt:${runId}:${slot}`).catch(() => undefined);
      throw new Error(
        `storage quota exceeded writing a ${fmtBytes(checkpoint.byteLength)} checkpoint of run ${runId}${quota}; ${prev ? `the previous checkpoint (step ${prev.state.step}) is intact` : 'no earlier checkpoint of this run exists'}. Delete old runs on the Runs screen or allow this site more storage`,
      );
    }
  }

  async load(runId: string): Promise<Checkpoint | null> {
    this.lastLoadWarning = null;
    const p = await this.kv.get<Pointer>(`run:${runId}`);
    if (!p) return null;
    try {
      const bytes = await this.kv.get<Uint8Array>(`ckpt:${runId}:${p.slot}`);
      if (!bytes) throw new Error(`run ${runId}: its checkpoint (slot ${p.slot}) is missing from IndexedDB`);
      return await decodeCheckpoint(bytes, `run ${runId}`);
    } catch (e) {
      const other = await this.kv.get<Uint8Array>(`ckpt:${runId}:${p.slot === 0 ? 1 : 0}`);
      if (!other) throw e;
      const older = await decodeCheckpoint(other, `run ${runId} (previous checkpoint)`).catch(() => null);
      if (!older) throw e;
      this.lastLoadWarning = `${(e as Error).message}; resuming from the checkpoint before it (step ${older.state.step})`;
      return older;
    }
  }

  async list(): Promise<RunState[]> {
    const out: RunState[] = [];
    for (const k of await this.kv.keys()) {
      if (typeof k !== 'string' || !k.startsWith('run:')) continue;
      const p = await this.kv.get<Pointer>(k);
      if (p) out.push(p.state);
    }
    return out.sort((a, b) => b.savedAt - a.savedAt);
  }

  async delete(runId: string): Promise<void> {
    await this.kv.del(`run:${runId}`);
    await this.kv.del(`ckpt:${runId}:0`);
    await this.kv.del(`ckpt:${runId}:1`);
  }
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  // Chromium raises QuotaExceededError; a transaction aborted for quota surfaces as AbortError with it inside.
  return name === 'QuotaExceededError' || ((e as { inner?: { name?: string } } | null)?.inner?.name === 'QuotaExceededError') || /quota/i.test(String((e as Error)?.message ?? ''));
}
