// Runs kept in IndexedDB (idb-keyval). Each run has two checkpoint slots; a save writes the slot not in use
// and only then flips the run's pointer, so a failure mid-write (quota exceeded, tab closed) leaves the
// previous checkpoint readable. Each IndexedDB put is its own transaction: a tab closed during one leaves
// the old value. Quota errors are reported with the sizes involved. A slot that does not decode (damaged
// storage) falls back to the other slot, the checkpoint before it. A slot no run points to (a tab closed in a
// run's first save) is never read, and list() returns its space.
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { openSafetensors } from '../io/safetensors.ts';
import { memorySource } from '../io/source.ts';
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
      // The other slot is usually the checkpoint before; after a tab closed between a save's two puts it is a
      // complete later one that the pointer never reached.
      const which = older.state.step > p.state.step ? 'a later complete checkpoint the run never pointed to' : 'the checkpoint before it';
      this.lastLoadWarning = `${(e as Error).message}; resuming from ${which} (step ${older.state.step})`;
      return older;
    }
  }

  async list(): Promise<RunState[]> {
    const out: RunState[] = [];
    const all = (await this.kv.keys()).filter((k): k is string => typeof k === 'string');
    for (const k of all) {
      if (!k.startsWith('run:')) continue;
      const p = await this.kv.get<Pointer>(k);
      if (p) out.push(p.state);
    }
    await this.dropOrphans(all, new Set(out.map((s) => s.runId)));
    return out.sort((a, b) => b.savedAt - a.savedAt);
  }

  /**
   * A checkpoint no run points to is what a tab closed during a run's first save leaves (its slot committed, its
   * pointer never written), or a delete cut short: nothing lists or loads it, so its space is returned. Only
   * once it is ORPHAN_AGE_MS old: another tab's save may be between its two puts right now.
   */
  private async dropOrphans(keys: string[], runs: Set<string>): Promise<void> {
    for (const k of keys) {
      const m = /^ckpt:(.+):[01]$/.exec(k);
      if (!m || runs.has(m[1])) continue;
      const bytes = await this.kv.get<Uint8Array>(k);
      const savedAt = bytes ? await savedAtOf(bytes) : null;
      if (savedAt === null || Date.now() - savedAt > ORPHAN_AGE_MS) await this.kv.del(k).catch(() => undefined);
    }
  }

  async delete(runId: string): Promise<void> {
    await this.kv.del(`run:${runId}`);
    await this.kv.del(`ckpt:${runId}:0`);
    await this.kv.del(`ckpt:${runId}:1`);
  }
}

/** A save's two puts follow each other at once; a checkpoint this old without its pointer will never get one. */
const ORPHAN_AGE_MS = 10 * 60_000;

/** When a checkpoint was saved, from its header alone (null: not readable as one). */
async function savedAtOf(bytes: Uint8Array): Promise<number | null> {
  try {
    const savedAt = (JSON.parse((await openSafetensors(memorySource(bytes))).metadata.run_state ?? 'null') as { savedAt?: unknown } | null)?.savedAt;
    return typeof savedAt === 'number' ? savedAt : null;
  } catch {
    return null;
  }
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  // Chromium raises QuotaExceededError; a transaction aborted for quota surfaces as AbortError with it inside.
  return name === 'QuotaExceededError' || ((e as { inner?: { name?: string } } | null)?.inner?.name === 'QuotaExceededError') || /quota/i.test(String((e as Error)?.message ?? ''));
}
