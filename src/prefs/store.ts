// Where a build keeps its progress, so pause/resume (or a crash) continues where it stopped: the records of each
// finished batch as one chunk, then a small meta record saying how many chunks count. A chunk written without
// its meta (a crash between the two) is simply written again on resume.
// Implementations: MemoryPrefsStore (tests, throwaway builds), FolderPrefsStore (Node, node-store.ts),
// IdbPrefsStore (the browser, idb-store.ts).
import type { PrefRecord } from './types.ts';

export interface PrefsStats {
  /** Sources done. */
  rows: number;
  pairs: number;
  droppedMargin: number;
  droppedTooFew: number;
  /** Candidates the model produced (before merging repeats) and the new tokens they took. */
  modelCandidates: number;
  tokens: number;
  /** Distinct candidates scored, all origins. */
  scored: number;
  /** Pairs whose chosen is (or equals) the reference. */
  referenceChosen: number;
  /** Time spent building, summed over sessions. */
  elapsedMs: number;
}

export const emptyStats = (): PrefsStats => ({ rows: 0, pairs: 0, droppedMargin: 0, droppedTooFew: 0, modelCandidates: 0, tokens: 0, scored: 0, referenceChosen: 0, elapsedMs: 0 });

export interface PrefsMeta {
  version: 1;
  /** Settings, model and data the build was started with; a resume with anything else is refused. */
  fingerprint: string;
  total: number;
  /** Chunks that count, in order: chunk i holds the records of batch i. */
  chunks: number;
  stats: PrefsStats;
}

export interface PrefsStore {
  loadMeta(key: string): Promise<PrefsMeta | null>;
  loadChunk(key: string, index: number): Promise<PrefRecord[] | null>;
  saveChunk(key: string, index: number, records: PrefRecord[]): Promise<void>;
  saveMeta(key: string, meta: PrefsMeta): Promise<void>;
  clear(key: string): Promise<void>;
}

export class MemoryPrefsStore implements PrefsStore {
  private m = new Map<string, string>();
  async loadMeta(key: string) {
    const v = this.m.get(`${key}/meta`);
    return v ? (JSON.parse(v) as PrefsMeta) : null;
  }
  async loadChunk(key: string, index: number) {
    const v = this.m.get(`${key}/${index}`);
    return v ? (JSON.parse(v) as PrefRecord[]) : null;
  }
  async saveChunk(key: string, index: number, records: PrefRecord[]) {
    this.m.set(`${key}/${index}`, JSON.stringify(records));
  }
  async saveMeta(key: string, meta: PrefsMeta) {
    this.m.set(`${key}/meta`, JSON.stringify(meta));
  }
  async clear(key: string) {
    for (const k of [...this.m.keys()]) if (k.startsWith(`${key}/`)) this.m.delete(k);
  }
}
