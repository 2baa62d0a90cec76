// Runs kept in a folder (the CLI's ADAPTER_DIR/checkpoints): <runId>.safetensors, written to a temporary
// file, flushed to disk and renamed over the old one, so a crash or a full disk mid-write leaves the
// previous checkpoint intact. Leftover temporary files are never read and are removed by the next save.
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint, fmtBytes, type Checkpoint, type RunState, type RunStore } from './checkpoint.ts';

/** The file operations a save goes through, in order; tests replace them to fail at each stage. */
export interface StoreFs {
  mkdir(dir: string): void;
  /** Writes and flushes the whole file (open, write, fsync, close). */
  writeFile(path: string, bytes: Uint8Array): void;
  rename(from: string, to: string): void;
  rm(path: string): void;
}

export const nodeStoreFs: StoreFs = {
  mkdir: (dir) => nodeFs.mkdirSync(dir, { recursive: true }),
  writeFile(path, bytes) {
    const fd = nodeFs.openSync(path, 'w');
    try {
      let off = 0;
      while (off < bytes.byteLength) off += nodeFs.writeSync(fd, bytes, off, bytes.byteLength - off);
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
  rename: (from, to) => nodeFs.renameSync(from, to),
  rm: (path) => nodeFs.rmSync(path, { force: true, recursive: true }),
};

export class FolderRunStore implements RunStore {
  constructor(
    readonly dir: string,
    private readonly fs: StoreFs = nodeStoreFs,
  ) {}

  private file(runId: string): string {
    if (!/^[\w.-]+$/.test(runId)) throw new Error(`run id ${JSON.stringify(runId)} has characters not allowed in a file name`);
    return join(this.dir, `${runId}.safetensors`);
  }

  where(runId: string): string {
    return this.file(runId);
  }

  async save(runId: string, checkpoint: Uint8Array, state: RunState): Promise<void> {
    const target = this.file(runId);
    const tmp = `${target}.tmp`;
    try {
      this.fs.mkdir(this.dir);
      this.fs.writeFile(tmp, checkpoint);
      this.fs.rename(tmp, target);
    } catch (e) {
      try {
        this.fs.rm(tmp);
      } catch {
        /* the message below matters more than the leftover, which load and list never read */
      }
      throw new Error(this.failure(e as NodeJS.ErrnoException, target, checkpoint.byteLength, runId));
    }
    // A readable summary beside it; the checkpoint itself is the truth, so a failure here is not fatal.
    try {
      this.fs.writeFile(join(this.dir, `${runId}.json`), new TextEncoder().encode(JSON.stringify({ ...state, history: undefined }, null, 1)));
    } catch {
      /* see above */
    }
  }

  private failure(e: NodeJS.ErrnoException, target: string, bytes: number, runId: string): string {
    const prev = nodeFs.existsSync(target) ? `the previous checkpoint ${target} (${fmtBytes(nodeFs.statSync(target).size)}) is intact` : 'no earlier checkpoint of this run exists';
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') {
      let free = '';
      try {
        const st = nodeFs.statfsSync(this.dir);
        free = `, ${fmtBytes(st.bavail * st.bsize)} free on that disk`;
      } catch {
        /* statfs is best effort */
      }
      return `disk full writing a ${fmtBytes(bytes)} checkpoint of run ${runId} to ${this.dir}${free}; ${prev}. Free space (delete old adapter folders or their checkpoints/ folders) and the run continues from its next checkpoint.`;
    }
    return `could not write the checkpoint of run ${runId} to ${target} (${e.message}); ${prev}`;
  }

  async load(runId: string): Promise<Checkpoint | null> {
    const f = this.file(runId);
    if (!nodeFs.existsSync(f)) return null;
    return decodeCheckpoint(new Uint8Array(nodeFs.readFileSync(f)), f);
  }

  async list(): Promise<RunState[]> {
    if (!nodeFs.existsSync(this.dir)) return [];
    const out: RunState[] = [];
    for (const f of nodeFs.readdirSync(this.dir).filter((n) => n.endsWith('.safetensors'))) {
      const c = await decodeCheckpoint(new Uint8Array(nodeFs.readFileSync(join(this.dir, f))), join(this.dir, f));
      out.push(c.state);
    }
    return out.sort((a, b) => b.savedAt - a.savedAt);
  }

  async delete(runId: string): Promise<void> {
    this.fs.rm(this.file(runId));
    this.fs.rm(join(this.dir, `${runId}.json`));
  }
}
