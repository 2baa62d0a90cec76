// Node: Python's Hugging Face cache (huggingface_hub's layout), read and written, so that a model or dataset
// fetched by `huggingface-cli download` / `transformers` is not fetched again, and ours serve them in turn:
//
//   $HF_HUB_CACHE (default $HF_HOME/hub, $HF_HOME default ~/.cache/huggingface)
//     models--OWNER--NAME/                      (datasets--OWNER--NAME for datasets)
//       refs/main                               the commit a revision resolved to, no newline
//       blobs/<etag>                            file bodies by git blob id or LFS sha256
//       blobs/<etag>.incomplete                 a download in progress (resumed with a Range request)
//       blobs/<etag>.lock                       held (our pid inside) by the process writing that blob
//       snapshots/<commit>/<path>               relative symlinks into blobs/ (copies where links fail)
//
// A cut download stays in `.incomplete`, never in snapshots/, so nothing half-written is ever read as the file.
// A finished one is checked against its etag (the sha256 of an LFS file, the git blob id of a small one) before
// it becomes the blob: a corrupt partial file or a bad proxy is discarded, never cached. Two processes fetching
// the same model (two CLI runs) take turns on a blob's lock; the second finds the blob done and only links it.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { downloadHubModel, type HubFileKey, type HubOptions, type HubStore, type RepoType } from './hub.ts';

export interface HfEnv {
  HF_HOME?: string;
  HF_HUB_CACHE?: string;
  HF_ENDPOINT?: string;
  HF_TOKEN?: string;
  HF_HUB_OFFLINE?: string;
  [k: string]: string | undefined;
}

/** The hub cache folder as huggingface_hub computes it. */
export function hfHubCacheDir(env: HfEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

/** `models--OWNER--NAME` / `datasets--OWNER--NAME`. */
export function hfRepoFolder(type: RepoType, repo: string): string {
  return `${type}s--${repo.split('/').join('--')}`;
}

/** Hub options from the environment, as huggingface_hub reads it: HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE. */
export function hubOptionsFromEnv(env: HfEnv = process.env): HubOptions {
  const opts: HubOptions = { store: hfCacheStore(hfHubCacheDir(env)) };
  if (env.HF_ENDPOINT) opts.hubUrl = env.HF_ENDPOINT.replace(/\/+$/, '');
  if (env.HF_TOKEN) opts.token = env.HF_TOKEN;
  if (env.HF_HUB_OFFLINE && !/^(0|false|no|)$/i.test(env.HF_HUB_OFFLINE)) opts.offline = true;
  return opts;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export interface HfCacheStore extends HubStore {
  root: string;
  snapshotDir(type: RepoType, repo: string, commit: string): string;
}

export function hfCacheStore(root: string = hfHubCacheDir()): HfCacheStore {
  const repoDir = (type: RepoType, repo: string) => join(root, hfRepoFolder(type, repo));
  const snapshotDir = (type: RepoType, repo: string, commit: string) => join(repoDir(type, repo), 'snapshots', commit);
  const snapPath = (k: HubFileKey) => join(snapshotDir(k.type, k.repo, k.commit), ...k.file.split('/'));
  const blobPath = (k: HubFileKey) => join(repoDir(k.type, k.repo), 'blobs', k.etag ?? `unknown-${k.commit}-${k.file.replace(/\//g, '_')}`);
  return {
    root,
    snapshotDir,
    async get(k) {
      const p = snapPath(k);
      return (await exists(p)) ? openAsBlob(p) : null;
    },
    async partial(k) {
      if (!k.etag) return 0;
      try {
        return (await stat(`${blobPath(k)}.incomplete`)).size;
      } catch {
        return 0;
      }
    },
    async save(k, body, offset) {
      const blob = blobPath(k);
      await mkdir(dirname(blob), { recursive: true });
      const unlock = await lockFile(`${blob}.lock`);
      try {
        if (await exists(blob)) await body.cancel(); // another process finished it while this one waited
        else await writeBlob(k, blob, body, offset);
        const snap = snapPath(k);
        await mkdir(dirname(snap), { recursive: true });
        await rm(snap, { force: true });
        try {
          await symlink(relative(dirname(snap), blob), snap);
        } catch {
          await copyFile(blob, snap); // file systems without symlinks: huggingface_hub copies as well
        }
      } finally {
        await unlock();
      }
    },
    async getRef(type, repo, revision) {
      try {
        return (await readFile(join(repoDir(type, repo), 'refs', ...revision.split('/')), 'utf8')).trim() || null;
      } catch {
        return null;
      }
    },
    async setRef(type, repo, revision, commit) {
      if (/^[0-9a-f]{40}$/.test(revision)) return; // a commit is its own ref
      const p = join(repoDir(type, repo), 'refs', ...revision.split('/'));
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, commit);
    },
  };
}

/** The hash an etag is: the LFS sha256 (64 hex digits) or the git blob id (sha1 of "blob SIZE\0" + bytes). */
function etagHash(k: HubFileKey): Hash | null {
  if (k.etag && /^[0-9a-f]{64}$/.test(k.etag)) return createHash('sha256');
  if (k.etag && /^[0-9a-f]{40}$/.test(k.etag) && k.size !== undefined) return createHash('sha1').update(`blob ${k.size}\0`);
  return null; // an etag of another kind (a server that is not the Hub): only the size is checked
}

/** `body` (the file from `offset` on) into `<blob>.incomplete`, checked, then renamed to `blob`. */
async function writeBlob(k: HubFileKey, blob: string, body: ReadableStream<Uint8Array>, offset: number): Promise<void> {
  const part = `${blob}.incomplete`;
  const hash = etagHash(k);
  if (hash && offset > 0) for await (const c of createReadStream(part, { end: offset - 1 })) hash.update(c as Buffer);
  const fh = await open(part, offset > 0 ? 'r+' : 'w');
  let pos = offset;
  try {
    await fh.truncate(offset);
    const reader = body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      let done = 0;
      while (done < r.value.length) done += (await fh.write(r.value, done, r.value.length - done, pos + done)).bytesWritten;
      hash?.update(r.value);
      pos += r.value.length;
    }
  } finally {
    await fh.close();
  }
  if (k.size !== undefined && pos !== k.size) {
    await rm(part, { force: true });
    throw new Error(`Hub: ${k.repo}/${k.file}: got ${pos} bytes, expected ${k.size}`);
  }
  const got = hash?.digest('hex');
  if (got !== undefined && got !== k.etag) {
    await rm(part, { force: true }); // a resumed partial file that was not this file's start: restart next time
    throw new Error(`Hub: ${k.repo}/${k.file}: the downloaded bytes hash to ${got.slice(0, 12)}…, not the Hub's ${k.etag!.slice(0, 12)}…; discarded, try again`);
  }
  await rename(part, blob);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
};

/**
 * An exclusive lock file holding our pid; waits while a live process holds it, takes over one left by a dead
 * process (huggingface_hub uses flock, which Node lacks; its lock files live elsewhere, under .locks/).
 */
async function lockFile(path: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(await readFile(path, 'utf8').catch(() => ''));
    const age = await stat(path).then((st) => Date.now() - st.mtimeMs, () => 0);
    // A pid of 0 or none: a lock written a moment ago and not yet filled, or a broken one (then after 10 s).
    if ((pid > 0 && !alive(pid)) || (!(pid > 0) && age > 10_000)) await rm(path, { force: true });
    else await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Node: a model by Hub id as a local folder (the snapshot in the Hugging Face cache), downloading only the
 * files the cache lacks. Environment as huggingface_hub: HF_HOME / HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE.
 */
export async function hubModelDir(
  repo: string,
  opts: HubOptions & { env?: HfEnv; onOverall?: (loaded: number, total: number | null) => void } = {},
): Promise<{ dir: string; commit: string }> {
  const base = hubOptionsFromEnv(opts.env);
  const store = (opts.store ?? base.store) as HfCacheStore;
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const merged = { ...base, ...given, store };
  const r = await downloadHubModel(repo, merged);
  return { dir: store.snapshotDir('model', repo, r.commit), commit: r.commit };
}
