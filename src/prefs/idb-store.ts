// A build's progress in IndexedDB (idb-keyval), for the studio. Its own database: idb-keyval creates one object
// store per database, so sharing 'cpo-studio' (runs) would need a version upgrade it does not do.
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import type { PrefsMeta, PrefsStore } from './store.ts';
import type { PrefRecord } from './types.ts';

export class IdbPrefsStore implements PrefsStore {
  private readonly db: UseStore;

  constructor(dbName = 'cpo-studio-prefs', storeName = 'builds') {
    this.db = createStore(dbName, storeName);
  }

  async loadMeta(key: string) {
    return (await get<PrefsMeta>(`${key}/meta`, this.db)) ?? null;
  }
  async loadChunk(key: string, index: number) {
    return (await get<PrefRecord[]>(`${key}/${index}`, this.db)) ?? null;
  }
  async saveChunk(key: string, index: number, records: PrefRecord[]) {
    await set(`${key}/${index}`, records, this.db);
  }
  async saveMeta(key: string, meta: PrefsMeta) {
    await set(`${key}/meta`, meta, this.db);
  }
  async clear(key: string) {
    for (const k of await keys(this.db)) if (typeof k === 'string' && k.startsWith(`${key}/`)) await del(k, this.db);
  }
}
