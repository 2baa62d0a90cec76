// TEST-ONLY: the worker's fault hooks, present only in a worker the page named `test-faults` (a page opened with
// `?test-faults`, workers/client.ts). tests/e2e/faults.test.ts reaches them through Playwright's worker.evaluate:
// it destroys the GPU device inside a step, and it stops a checkpoint write of the IndexedDB store at one of its
// stages and holds it there while it closes the tab, as a user closing it mid-write would. Nothing in the studio
// calls them.
import { createStore, type UseStore } from 'idb-keyval';
import { idbKeyValue, type KeyValue } from '../train/idb-store.ts';

/**
 * Where a save (IdbRunStore.save: the checkpoint into the free slot, then the run's pointer) is held: before the
 * checkpoint's put, with its transaction open and not committed, after it committed (= before the pointer's
 * put), with the pointer's transaction open, after the pointer committed (the save complete, unannounced).
 */
export const SAVE_STAGES = ['ckpt-before', 'ckpt-during', 'ckpt-after', 'run-during', 'run-after'] as const;
export type SaveStage = (typeof SAVE_STAGES)[number];

/** SHA-256 hex of a checkpoint slot: the whole file, and its tensor data alone (the header has times in it). */
export interface SlotDigest {
  file: string;
  tensors: string;
}

/** What IndexedDB holds for a run: its pointer (digest, and the step and slot it names) and both slots (null: absent). */
export interface RunDigests {
  run: string | null;
  pointerStep: number | null;
  pointerSlot: number | null;
  ckpt: [SlotDigest | null, SlotDigest | null];
}

export interface HeldSave {
  stage: SaveStage;
  runId: string;
  /** The step being saved. */
  step: number;
  /** The key the held put writes. */
  key: string;
  /** The run's values just before the held put. */
  before: RunDigests;
  /** The digest of the value the held put writes. */
  written: string;
  /** The tensor data of the checkpoint this save is for: the held put's own, or (a pointer's put) the slot it names. */
  savedTensors: string;
}

export interface TestFaults {
  /** The store the worker's IdbRunStore uses: the real one, except for the one save a hold is armed for. */
  kv: KeyValue;
  /** Holds the next save of `step` at `stage` forever; resolves once it is held there. */
  holdSave(stage: SaveStage, step: number): Promise<HeldSave>;
  /** The digests of what IndexedDB holds for a run now. */
  digests(runId: string): Promise<RunDigests>;
}

interface Pointer {
  slot: 0 | 1;
  state: { step: number };
}

const never = () => new Promise<never>(() => {});

export function testFaults(dbName = 'cpo-studio', storeName = 'runs'): TestFaults {
  const inner = idbKeyValue(dbName, storeName);
  // A connection of its own for the raw transaction a 'during' hold keeps open.
  const db: UseStore = createStore(dbName, storeName);
  let armed: { stage: SaveStage; step: number; resolve(h: HeldSave): void } | null = null;

  const digests = async (runId: string): Promise<RunDigests> => {
    const p = await inner.get<Pointer>(`run:${runId}`);
    return {
      run: p ? await digest(p) : null,
      pointerStep: p?.state.step ?? null,
      pointerSlot: p?.slot ?? null,
      ckpt: [await slotDigest(await inner.get<Uint8Array>(`ckpt:${runId}:0`)), await slotDigest(await inner.get<Uint8Array>(`ckpt:${runId}:1`))],
    };
  };

  const kv: KeyValue = {
    get: (k) => inner.get(k),
    del: (k) => inner.del(k),
    keys: () => inner.keys(),
    async set(key, value) {
      const a = armed;
      const m = /^(ckpt|run):(.+?)(?::[01])?$/.exec(key);
      if (!a || !m || !a.stage.startsWith(m[1]) || stepOf(value) !== a.step) return inner.set(key, value);
      armed = null;
      const runId = m[2];
      const held: HeldSave = {
        stage: a.stage,
        runId,
        step: a.step,
        key,
        before: await digests(runId),
        written: await digest(value),
        savedTensors: await sha256(tensorData(value instanceof Uint8Array ? value : (await inner.get<Uint8Array>(`ckpt:${runId}:${(value as Pointer).slot}`))!)),
      };
      if (a.stage.endsWith('-during')) {
        // The put is issued and its transaction kept alive by reads of the same key, so it never commits: the
        // tab closing now aborts it, as it aborts any transaction in flight.
        await new Promise<void>((started) =>
          db('readwrite', (store) => {
            store.put(value, key);
            const spin = () => (store.get(key).onsuccess = spin);
            spin();
            started();
            return never();
          }),
        );
      } else if (a.stage.endsWith('-after')) {
        await inner.set(key, value);
      }
      a.resolve(held);
      return never();
    },
  };

  return {
    kv,
    digests,
    holdSave: (stage, step) => {
      if (!SAVE_STAGES.includes(stage)) throw new Error(`unknown save stage ${stage}; one of ${SAVE_STAGES.join(', ')}`);
      return new Promise((resolve) => (armed = { stage, step, resolve }));
    },
  };
}

/** The step a store value is for: a checkpoint's run_state metadata, or a pointer's state. */
function stepOf(value: unknown): number | null {
  if (value instanceof Uint8Array) return JSON.parse(JSON.parse(new TextDecoder().decode(header(value))).__metadata__.run_state).step;
  return (value as { state?: { step?: number } } | null)?.state?.step ?? null;
}

/** A safetensors file's JSON header (after its 8-byte little-endian length) and the tensor data after it. */
function header(b: Uint8Array): Uint8Array {
  return b.subarray(8, 8 + Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)));
}
function tensorData(b: Uint8Array): Uint8Array {
  return b.subarray(8 + header(b).byteLength);
}

async function sha256(b: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', b.slice()));
  return [...h].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Bytes as stored; anything else (a pointer) by its JSON, in the order structured clone keeps. */
async function digest(v: unknown): Promise<string> {
  return sha256(v instanceof Uint8Array ? v : new TextEncoder().encode(JSON.stringify(v)));
}
async function slotDigest(v: Uint8Array | undefined): Promise<SlotDigest | null> {
  return v === undefined ? null : { file: await sha256(v), tensors: await sha256(tensorData(v)) };
}
