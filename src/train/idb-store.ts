// Runs kept in IndexedDB (idb-keyval). Each run has two checkpoint slots; a save writes the slot not in use
// and only then flips the run's pointer, so a failure mid-write (quota exceeded, tab closed) leaves the
// previous checkpoint readable. Quota errors are reported with the sizes involved.
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { decodeCheckpoint, type Checkpoint, type RunState, type RunStore } from './checkpoint.ts';

interface Pointer {
  slot: 0 | 1;
  state: RunState;
}

export class IdbRunStore implements RunStore {
  private readonly db: UseStore;

  constructor(dbName = 'cpo-studio', storeName = 'runs') {
    this.db = createStore(dbName, storeName);
  }

  async save(runId: string, checkpoint: Uint8Array, state: RunState): Promise<void> {
    const prev = await get<Pointer>(`run:${runId}`, this.db);
    const slot: 0 | 1 = prev ? (prev.slot === 0 ? 1 : 0) : 0;
    try {
      await set(`ckpt:${runId}:${slot}`, checkpoint, this.db);
    } catch (e) {
      const name = (e as DOMException)?.name;
      if (name === 'QuotaExceededError') {
        let quota = '';
        try {
          const est = await navigator.storage?.estimate?.();
          if (est) quota = ` (the browser reports ${fmt(est.usage ?? 0)} used of ${fmt(est.quota ?? 0)})`;
        } catch {
          /* estimate is best effort */
        }
        throw new Error(`storage quota exceeded writing a ${fmt(checkpoint.byteLength)} checkpoint for run ${runId}${quota}; the previous checkpoint (step ${prev?.state.step ?? 'none'}) is intact. Delete old runs or allow more storage.`);
      }
      throw e;
    }
    await set(`run:${runId}`, { slot, state: { ...state } } satisfies Pointer, this.db);
  }

  async load(runId: string): Promise<Checkpoint | null> {
    const p = await get<Pointer>(`run:${runId}`, this.db);
    if (!p) return null;
    const bytes = await get<Uint8Array>(`ckpt:${runId}:${p.slot}`, this.db);
    if (!bytes) throw new Error(`run ${runId}: its checkpoint (slot ${p.slot}) is missing from IndexedDB`);
    return decodeCheckpoint(bytes, `run ${runId}`);
  }

  async list(): Promise<RunState[]> {
    const out: RunState[] = [];
    for (const k of await keys(this.db)) {
      if (typeof k !== 'string' || !k.startsWith('run:')) continue;
      const p = await get<Pointer>(k, this.db);
      if (p) out.push(p.state);
    }
    return out.sort((a, b) => b.savedAt - a.savedAt);
  }

  async delete(runId: string): Promise<void> {
    await del(`run:${runId}`, this.db);
    await del(`ckpt:${runId}:0`, this.db);
    await del(`ckpt:${runId}:1`, this.db);
  }
}

function fmt(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}
