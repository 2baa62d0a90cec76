// A build's progress in a folder (the CLI's OUT.state/): meta.json and chunk-NNNNNN.json per finished batch, each
// written to a temporary file and renamed, so a crash mid-write leaves the previous state whole.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrefsMeta, PrefsStore } from './store.ts';
import type { PrefRecord } from './types.ts';

export class FolderPrefsStore implements PrefsStore {
  constructor(readonly dir: string) {}

  private path(key: string, name: string): string {
    if (!/^[\w.-]+$/.test(key)) throw new Error(`build key ${JSON.stringify(key)} has characters not allowed in a file name`);
    return join(this.dir, key, name);
  }

  private read<T>(file: string): T | null {
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (e) {
      throw new Error(`${file}: cannot be read as saved build state (${(e as Error).message}); delete the folder to start over`);
    }
  }

  private write(file: string, value: unknown): void {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(value));
    renameSync(`${file}.tmp`, file);
  }

  async loadMeta(key: string) {
    return this.read<PrefsMeta>(this.path(key, 'meta.json'));
  }
  async loadChunk(key: string, index: number) {
    return this.read<PrefRecord[]>(this.path(key, `chunk-${String(index).padStart(6, '0')}.json`));
  }
  async saveChunk(key: string, index: number, records: PrefRecord[]) {
    this.write(this.path(key, `chunk-${String(index).padStart(6, '0')}.json`), records);
  }
  async saveMeta(key: string, meta: PrefsMeta) {
    this.write(this.path(key, 'meta.json'), meta);
  }
  async clear(key: string) {
    rmSync(join(this.dir, key), { recursive: true, force: true });
  }
}
