// Hugging Face Hub downloads, browser and Node alike. A repository's revision is first resolved to its commit
// through the Hub's revision API (`/api/models/REPO/revision/REV?blobs=true`, which also lists every file with
// its size and hash), and every file is then fetched from `/resolve/COMMIT/…`: the cache is keyed by commit,
// so a repository that moves on is never served stale, and what a run used is pinned. Bodies stream into a
// HubStore and are read back from it (the Cache API in the browser — bodies piped in, never gathered in the JS
// heap; Python's Hugging Face cache layout on disk in Node, see hf-cache.ts). A download cut off mid-file
// leaves no entry: the Cache API commits a put only when its body completes, and the disk store keeps the
// partial bytes in `blobs/ETAG.incomplete`, resumed with a Range request on the next attempt.
// fetch and the store are injectable, for tests and for Node.

import { settings } from '../settings.ts';

/** The public Hub; the address used is settings.hubUrl (read at each call), unless an option names another. */
export const HUB_URL = 'https://huggingface.co';
export const HUB_CACHE = 'cpo-studio-hub-v2';

/** Above this total, the browser is asked to keep the origin's storage (navigator.storage.persist()). */
export const PERSIST_ABOVE_BYTES = 1 << 30;

export type RepoType = 'model' | 'dataset';

export interface HubProgress {
  file: string;
  loaded: number;
  /** From the file listing or Content-Length; null when the server does not say. */
  total: number | null;
  fromCache: boolean;
  done: boolean;
}

/** One file of a pinned commit; etag is the git blob id or, for LFS files, the sha256 (as the Hub's ETag). */
export interface HubFileKey {
  type: RepoType;
  repo: string;
  commit: string;
  file: string;
  etag?: string;
  size?: number;
}

/** Where downloads go and are read back from. Writes are all-or-nothing as far as `get` can see. */
export interface HubStore {
  get(key: HubFileKey): Promise<Blob | null>;
  /** Bytes kept from an interrupted download of this file (0 for stores that restart instead). */
  partial(key: HubFileKey): Promise<number>;
  /** Stores `body` (the file from byte `offset` on); resolves once the whole file is stored, rejects leaving nothing readable. */
  save(key: HubFileKey, body: ReadableStream<Uint8Array>, offset: number): Promise<void>;
  getRef(type: RepoType, repo: string, revision: string): Promise<string | null>;
  setRef(type: RepoType, repo: string, revision: string, commit: string): Promise<void>;
}

/** The part of the Cache API used here (window.caches.open() returns one). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete?(request: string): Promise<boolean>;
}

export interface HubOptions {
  /** Branch, tag or commit (default main). */
  revision?: string;
  /** Access token for gated or private repositories (Node: HF_TOKEN). */
  token?: string;
  fetch?: typeof fetch;
  /** null disables storing; default: the Cache API in a browser, none elsewhere (Node passes hfCacheStore()). */
  store?: HubStore | null;
  /** Shorthand for a Cache-API store over this cache (tests). */
  cache?: CacheLike | null;
  onProgress?: (p: HubProgress) => void;
  signal?: AbortSignal;
  /** The Hub's address (Node: HF_ENDPOINT). */
  hubUrl?: string;
  /** Use only what the store holds (Node: HF_HUB_OFFLINE=1). */
  offline?: boolean;
}

export interface HubSibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256: string; size: number };
}

export interface HubRepoInfo {
  type: RepoType;
  repo: string;
  revision: string;
  commit: string;
  /** Absent when the commit came from the store's refs (offline). */
  siblings?: HubSibling[];
}

const REPO_ID = /^[\w.-]+(\/[\w.-]+)?$/;

export function checkRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.split('/').some((p) => p.startsWith('.'))) throw new Error(`Hub: ${JSON.stringify(repo)} is not a repository id (owner/name)`);
}

const typePrefix = (type: RepoType) => (type === 'dataset' ? 'datasets/' : '');

export function hubFileUrl(repo: string, file: string, revision = 'main', hubUrl = settings.hubUrl, type: RepoType = 'model'): string {
  checkRepoId(repo);
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${hubUrl}/${typePrefix(type)}${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

export function hubRevisionUrl(type: RepoType, repo: string, revision = 'main', hubUrl = settings.hubUrl): string {
  checkRepoId(repo);
  return `${hubUrl}/api/${type}s/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export class HubFileNotFoundError extends Error {
  constructor(readonly repo: string, readonly file: string, status: number) {
    super(`Hub: ${repo}/${file}: not found (HTTP ${status})`);
    this.name = 'HubFileNotFoundError';
  }
}

/** The network could not be reached at all (as opposed to an HTTP error the Hub answered with). */
export class HubNetworkError extends Error {
  constructor(what: string, cause: unknown) {
    super(`Hub: ${what}: network error (${(cause as Error)?.message ?? cause})`);
    this.name = 'HubNetworkError';
  }
}

const isCommit = (s: string) => /^[0-9a-f]{40}$/.test(s);

function headersFor(opts: HubOptions): Record<string, string> {
  return opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
}

async function hubFetch(what: string, url: string, opts: HubOptions, init: RequestInit = {}): Promise<Response> {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  let res: Response;
  try {
    res = await doFetch(url, { ...init, headers: { ...headersFor(opts), ...(init.headers as Record<string, string>) }, signal: opts.signal });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new HubNetworkError(what, e);
  }
  if (res.status === 401 || res.status === 403) {
    throw new Error(`Hub: ${what}: access denied (HTTP ${res.status}; gated or private repositories need a token${opts.token ? ', and this one was refused' : ''})`);
  }
  return res;
}

/** Resolves a revision to its commit and file listing; offline (or when the Hub cannot be reached) from the store's refs. */
export async function hubRepoInfo(type: RepoType, repo: string, opts: HubOptions = {}): Promise<HubRepoInfo> {
  const revision = opts.revision ?? 'main';
  const store = await storeFor(opts);
  const fromRef = async (why: string) => {
    const commit = isCommit(revision) ? revision : await store?.getRef(type, repo, revision);
    if (!commit) throw new Error(`Hub: ${repo}@${revision}: ${why}, and it is not in the local cache`);
    return { type, repo, revision, commit };
  };
  if (opts.offline) return fromRef('offline mode');
  let res: Response;
  try {
    res = await hubFetch(`${repo}@${revision}`, hubRevisionUrl(type, repo, revision, opts.hubUrl), opts);
  } catch (e) {
    if (e instanceof HubNetworkError) return fromRef(e.message.replace(/^Hub: [^:]+: /, 'the Hub cannot be reached: '));
    throw e;
  }
  if (res.status === 404) {
    // The Hub says which: "Repository not found" or "Invalid rev id: …".
    const said = ((await res.json().catch(() => null)) as { error?: unknown } | null)?.error;
    const why = typeof said === 'string' ? `: ${said.slice(0, 200)}` : '';
    throw new Error(`Hub: ${type} ${repo}@${revision}: not found (HTTP 404${why}; check the id${type === 'dataset' ? '' : ', or is it a dataset?'})`);
  }
  if (!res.ok) throw new Error(`Hub: ${repo}@${revision}: HTTP ${res.status} ${res.statusText}`);
  const body = (await res.json()) as { sha?: unknown; siblings?: unknown };
  if (typeof body.sha !== 'string' || !isCommit(body.sha)) throw new Error(`Hub: ${repo}@${revision}: the revision API answered without a commit sha`);
  const siblings = Array.isArray(body.siblings) ? (body.siblings as HubSibling[]).filter((s) => typeof s?.rfilename === 'string') : [];
  await store?.setRef(type, repo, revision, body.sha);
  return { type, repo, revision, commit: body.sha, siblings };
}

function keyFor(info: HubRepoInfo, file: string): HubFileKey {
  const s = info.siblings?.find((x) => x.rfilename === file);
  return { type: info.type, repo: info.repo, commit: info.commit, file, etag: s?.lfs?.sha256 ?? s?.blobId, size: s?.lfs?.size ?? s?.size };
}

/** Counts bytes as they pass and, at the end, checks the count against `expected`, failing the stream otherwise. */
function progressStream(start: number, expected: number | null, what: string, onBytes: (loaded: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let loaded = start;
  return new TransformStream({
    transform(chunk, ctrl) {
      loaded += chunk.byteLength;
      onBytes(loaded);
      ctrl.enqueue(chunk);
    },
    flush() {
      if (expected !== null && loaded !== expected) throw new Error(`Hub: ${what}: got ${loaded} bytes, expected ${expected} (connection cut?)`);
    },
  });
}

/** One file of a resolved repository, from the store when it holds it, else downloaded into it. */
export async function downloadRepoFile(info: HubRepoInfo, file: string, opts: HubOptions = {}, resume = true): Promise<Blob> {
  const store = await storeFor(opts);
  const key = keyFor(info, file);
  const what = `${info.repo}/${file}`;
  const report = (loaded: number, total: number | null, fromCache: boolean, done: boolean) => opts.onProgress?.({ file, loaded, total, fromCache, done });
  const hit = store ? await store.get(key) : null;
  if (hit) {
    report(hit.size, hit.size, true, true);
    return hit;
  }
  if (opts.offline || !info.siblings) throw new Error(`Hub: ${what}@${info.commit.slice(0, 8)}: not in the local cache and the Hub is not reachable`);
  if (!info.siblings.some((s) => s.rfilename === file)) throw new HubFileNotFoundError(info.repo, file, 404);
  const offset = resume && store && key.etag ? await store.partial(key) : 0;
  const url = hubFileUrl(info.repo, file, info.commit, opts.hubUrl, info.type);
  const res = await hubFetch(what, url, opts, offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {});
  if (res.status === 404) throw new HubFileNotFoundError(info.repo, file, 404);
  if (res.status === 416 && offset > 0) {
    // The partial file already holds the whole file: another download of it (a second process or tab) wrote it
    // between the store's miss above and this request, and is renaming it, or left it unrenamed. Once more from
    // the store, else the whole file (the store's lock makes the two writers take turns).
    await res.body?.cancel();
    return downloadRepoFile(info, file, opts, false);
  }
  if (!res.ok) throw new Error(`Hub: ${what}: HTTP ${res.status} ${res.statusText}`);
  const start = res.status === 206 ? offset : 0; // a server that ignores Range sends the whole file: restart
  const len = Number(res.headers.get('content-length'));
  const total = key.size ?? (Number.isFinite(len) && len > 0 ? start + len : null);
  if (!key.etag) key.etag = etagOf(res);
  const body = (res.body ?? new Blob([await res.arrayBuffer()]).stream()).pipeThrough(
    progressStream(start, total, what, (loaded) => report(loaded, total, false, false)),
  );
  let blob: Blob;
  if (store) {
    try {
      await store.save(key, body, start);
    } catch (e) {
      throw wrapCut(what, e);
    }
    const saved = await store.get(key);
    if (!saved) throw new Error(`Hub: ${what}: stored but cannot be read back (storage full?)`);
    blob = saved;
  } else {
    // No store: the caller asked for an uncached download, so the parts are gathered here.
    const parts: Uint8Array[] = [];
    const reader = body.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    } catch (e) {
      throw wrapCut(what, e);
    }
    blob = new Blob(parts as BlobPart[]);
  }
  report(blob.size, total ?? blob.size, false, true);
  return blob;
}

function wrapCut(what: string, e: unknown): Error {
  const msg = (e as Error)?.message ?? String(e);
  return msg.startsWith('Hub: ') ? (e as Error) : new Error(`Hub: ${what}: download cut off (${msg}); nothing incomplete was kept as the file, try again to continue`);
}

/** The Hub's ETag for a file: X-Linked-Etag (the LFS sha256) before ETag, quotes and W/ removed. */
export function etagOf(res: Response): string | undefined {
  const e = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
  return e ? e.replace(/^W\//, '').replace(/"/g, '') : undefined;
}

/** One file by repository id (resolves the revision first). */
export async function downloadHubFile(repo: string, file: string, opts: HubOptions & { type?: RepoType } = {}): Promise<Blob> {
  opts = { ...opts, store: await storeFor(opts) };
  return downloadRepoFile(await hubRepoInfo(opts.type ?? 'model', repo, opts), file, opts);
}

export interface HubRepoFiles {
  /** The commit the files come from. */
  commit: string;
  files: Map<string, Blob>;
  /** Optional files that the repository does not have. */
  missing: string[];
}

type OverallOptions = HubOptions & {
  onOverall?: (loaded: number, total: number | null) => void;
};

/**
 * Downloads `files` (all required) and `optional` (skipped when the repository lacks them) one after another,
 * reporting per-file and overall progress. Files already stored cost nothing.
 */
export async function downloadRepoFiles(info: HubRepoInfo, files: string[], opts: OverallOptions & { optional?: string[] } = {}): Promise<HubRepoFiles> {
  const out = new Map<string, Blob>();
  const missing: string[] = [];
  const sizes = new Map<string, { loaded: number; total: number | null }>();
  const overall = () => {
    if (!opts.onOverall) return;
    let loaded = 0;
    let total: number | null = 0;
    for (const s of sizes.values()) {
      loaded += s.loaded;
      total = total === null || s.total === null ? null : total + s.total;
    }
    opts.onOverall(loaded, total);
  };
  const all = [...files.map((f) => ({ f, optional: false })), ...(opts.optional ?? []).map((f) => ({ f, optional: true }))];
  const listed = info.siblings && new Set(info.siblings.map((s) => s.rfilename));
  // The listing's sizes make the overall total right from the first byte, not growing file by file.
  for (const { f } of all) {
    const size = keyFor(info, f).size;
    if (listed?.has(f) && size !== undefined) sizes.set(f, { loaded: 0, total: size });
  }
  for (const { f, optional } of all) {
    if (optional && listed && !listed.has(f)) {
      missing.push(f);
      continue;
    }
    try {
      const blob = await downloadRepoFile(info, f, {
        ...opts,
        onProgress: (p) => {
          sizes.set(f, { loaded: p.loaded, total: p.total });
          opts.onProgress?.(p);
          overall();
        },
      });
      out.set(f, blob);
    } catch (e) {
      if (optional && (e instanceof HubFileNotFoundError || !listed)) missing.push(f);
      else throw e;
    }
  }
  return { commit: info.commit, files: out, missing };
}

export async function downloadHubFiles(repo: string, files: string[], opts: OverallOptions & { optional?: string[]; type?: RepoType } = {}): Promise<HubRepoFiles> {
  opts = { ...opts, store: await storeFor(opts) };
  return downloadRepoFiles(await hubRepoInfo(opts.type ?? 'model', repo, opts), files, opts);
}

export const MODEL_FILES = ['config.json', 'tokenizer.json'];
export const MODEL_OPTIONAL_FILES = ['tokenizer_config.json', 'generation_config.json', 'model.safetensors.index.json'];

/**
 * The files a model repository needs, single-file or sharded: the weights come from model.safetensors, or
 * from the shards model.safetensors.index.json names. (Persistent storage is asked for by the page before it
 * sends the load to the worker: navigator.storage.persist() is not exposed in workers.)
 */
export async function downloadHubModel(repo: string, opts: OverallOptions = {}): Promise<HubRepoFiles> {
  opts = { ...opts, store: await storeFor(opts) };
  const info = await hubRepoInfo('model', repo, opts);
  const onOverall = opts.onOverall;
  // While the small files come, the total already counts the weights the listing shows (top-level .safetensors).
  const listedWeights = info.siblings?.filter((s) => /^[^/]+\.safetensors$/.test(s.rfilename)).reduce((n, s) => n + (s.lfs?.size ?? s.size ?? 0), 0) ?? null;
  const base = await downloadRepoFiles(info, MODEL_FILES, {
    ...opts,
    optional: MODEL_OPTIONAL_FILES,
    onOverall: onOverall && ((l, t) => onOverall(l, t === null || listedWeights === null ? null : t + listedWeights)),
  });
  const index = base.files.get('model.safetensors.index.json');
  let weights: string[] = ['model.safetensors'];
  if (index) {
    const map = (JSON.parse(await index.text()) as { weight_map?: Record<string, string> }).weight_map;
    if (!map) throw new Error(`Hub: ${repo}/model.safetensors.index.json: weight_map: missing`);
    weights = [...new Set(Object.values(map))];
  }
  // Overall progress continues across the two rounds: the small files, then the weights.
  let baseBytes = 0;
  for (const b of base.files.values()) baseBytes += b.size;
  const w = await downloadRepoFiles(info, weights, { ...opts, onOverall: onOverall && ((l, t) => onOverall(baseBytes + l, t === null ? null : baseBytes + t)) });
  for (const [k, v] of w.files) base.files.set(k, v);
  return base;
}

/** Asks the browser not to evict this origin's storage; false where it refuses or there is no such API. */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (!storage?.persist) return false;
  try {
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return false;
  }
}

/** A HubStore over the Cache API: entries keyed by the commit-pinned resolve URL, refs as small text entries. */
export function cacheStore(cache: CacheLike, hubUrl = settings.hubUrl): HubStore {
  const fileUrl = (k: HubFileKey) => hubFileUrl(k.repo, k.file, k.commit, hubUrl, k.type);
  const refUrl = (type: RepoType, repo: string, rev: string) => `${hubUrl}/api/${type}s/${repo}/revision/${encodeURIComponent(rev)}#ref`;
  return {
    async get(k) {
      const hit = await cache.match(fileUrl(k));
      return hit ? hit.blob() : null;
    },
    partial: async () => 0,
    async save(k, body) {
      // The body streams into the cache; put() rejects if the stream errors (cut connection, wrong length),
      // and the entry is then not there. delete() is belt and braces for caches that commit early.
      try {
        await cache.put(fileUrl(k), new Response(body, { headers: { 'content-type': 'application/octet-stream' } }));
      } catch (e) {
        await cache.delete?.(fileUrl(k)).catch(() => false);
        throw e;
      }
    },
    async getRef(type, repo, rev) {
      const hit = await cache.match(refUrl(type, repo, rev));
      return hit ? (await hit.text()).trim() || null : null;
    },
    async setRef(type, repo, rev, commit) {
      try {
        await cache.put(refUrl(type, repo, rev), new Response(commit));
      } catch {
        // Quota: only the offline fallback is lost.
      }
    },
  };
}

export async function storeFor(opts: HubOptions): Promise<HubStore | null> {
  if (opts.store !== undefined) return opts.store;
  if (opts.cache !== undefined) return opts.cache && cacheStore(opts.cache, opts.hubUrl);
  const c = (globalThis as { caches?: CacheStorage }).caches;
  if (!c) return null;
  try {
    // v1 keyed files by their `main` URL; its entries can never be hits again, so their space is given back.
    await c.delete('cpo-studio-hub-v1').catch(() => false);
    return cacheStore(await c.open(HUB_CACHE), opts.hubUrl);
  } catch {
    return null; // e.g. an insecure context: downloads still work, uncached
  }
}
