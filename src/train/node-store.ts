// Runs kept in a folder (the CLI's ADAPTER_DIR/checkpoints): <runId>.safetensors, written to a temporary
// file and renamed over the old one, so a crash mid-write leaves the previous checkpoint intact.
import { mkdirSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint, type Checkpoint, type RunState, type RunStore } from './checkpoint.ts';

export class FolderRunStore implements RunStore {
  constructor(readonly dir: string) {}

  private file(runId: string): string {
    if (!/^[\w.-]+$/.test(runId)) throw new Error(`run id ${JSON.stringify(runId)} has characters not allowed in a file name`);
    return join(this.dir, `${runId}.safetensors`);
  }

  async save(runId: string, checkpoint: Uint8Array, state: RunState): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const target = this.file(runId);
    const tmp = `${target}.tmp`;
    writeFileSync(tmp, checkpoint);
    renameSync(tmp, target);
    writeFileSync(join(this.dir, `${runId}.json`), JSON.stringify({ ...state, history: undefined }, null, 1));
  }

  async load(runId: string): Promise<Checkpoint | null> {
    const f = this.file(runId);
    if (!existsSync(f)) return null;
    return decodeCheckpoint(new Uint8Array(readFileSync(f)), f);
  }

  async list(): Promise<RunState[]> {
    if (!existsSync(this.dir)) return [];
    const out: RunState[] = [];
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.safetensors'))) {
      const c = await decodeCheckpoint(new Uint8Array(readFileSync(join(this.dir, f))), f);
      out.push(c.state);
    }
    return out.sort((a, b) => b.savedAt - a.savedAt);
  }

  async delete(runId: string): Promise<void> {
    rmSync(this.file(runId), { force: true });
    rmSync(join(this.dir, `${runId}.json`), { force: true });
  }
}
