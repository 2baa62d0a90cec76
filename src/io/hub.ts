// Hugging Face Hub downloads in the browser: files fetched from /resolve/, streamed with progress, and kept
// in the Cache API under their URL so that opening the same model again costs no network at all.
// fetch and the cache are injectable, for tests and for Node (where `caches` does not exist).

export const HUB_URL = 'https://huggingface.co';
export const HUB_CACHE = 'cpo-studio-hub-v1';

export interface HubProgress {
  file: string;
  loaded: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
  fromCache: boolean;
  done: boolean;
}

/** The part of the Cache API used here (window.caches.open() returns one). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
}

export interface HubOptions {
  revision?: string;
  /** Access token for gated or private repositories. */
  token?: string;
  fetch?: typeof fetch;
  /** null disables caching; default: the browser's Cache API when present. */
  cache?: CacheLike | null;
  onProgress?: (p: HubProgress) => void;
  signal?: AbortSignal;
  hubUrl?: string;
}

export function hubFileUrl(repo: string, file: string, revision = 'main', hubUrl = HUB_URL): string {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.split('/').some((p) => p.startsWith('.'))) throw new Error(`Hub: ${JSON.stringify(repo)} is not a repository id (owner/name)`);
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

async function defaultCache(): Promise<CacheLike | null> {
  const c = (globalThis as { caches?: CacheStorage }).caches;
  if (!c) return null;
  try {
    return await c.open(HUB_CACHE);
  } catch {
    return null; // e.g. an insecure context: downloads still work, uncached
  }
}

export class HubFileNotFoundError extends Error {
  constructor(readonly repo: string, readonly file: string, status: number) {
    super(`Hub: ${repo}/${file}: not found (HTTP ${status})`);
    this.name = 'HubFileNotFoundError';
  }
}

/** One file, from the cache when it is there; read it with blob.text() or by range through blobSource(). */
export async function downloadHubFile(repo: string, file: string, opts: HubOptions = {}): Promise<Blob> {
  const url = hubFileUrl(repo, file, opts.revision, opts.hubUrl);
  const cache = opts.cache === undefined ? await defaultCache() : opts.cache;
  const report = (loaded: number, total: number | null, fromCache: boolean, done: boolean) => opts.onProgress?.({ file, loaded, total, fromCache, done });
  const hit = cache ? await cache.match(url) : undefined;
  if (hit) {
    const blob = await hit.blob();
    report(blob.size, blob.size, true, true);
    return blob;
  }
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await doFetch(url, { headers, signal: opts.signal });
  } catch (e) {
    throw new Error(`Hub: ${repo}/${file}: network error (${(e as Error).message})`);
  }
  if (res.status === 404) throw new HubFileNotFoundError(repo, file, 404);
  if (res.status === 401 || res.status === 403) throw new Error(`Hub: ${repo}/${file}: access denied (HTTP ${res.status}; gated or private repositories need a token)`);
  if (!res.ok) throw new Error(`Hub: ${repo}/${file}: HTTP ${res.status} ${res.statusText}`);
  const len = Number(res.headers.get('content-length'));
  const total = Number.isFinite(len) && len > 0 ? len : null;
  const blob = await readBody(res, (loaded) => report(loaded, total, false, false));
  if (total !== null && blob.size !== total) throw new Error(`Hub: ${repo}/${file}: got ${blob.size} bytes, expected ${total} (connection cut?)`);
  // Cached only once complete, so an interrupted download is never mistaken for the file.
  if (cache) {
    try {
      await cache.put(url, new Response(blob, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) } }));
    } catch {
      // Quota exceeded: the download is still good, it just will not be instant next time.
    }
  }
  report(blob.size, total ?? blob.size, false, true);
  return blob;
}

async function readBody(res: Response, progress: (loaded: number) => void): Promise<Blob> {
  if (!res.body) {
    const b = await res.blob();
    progress(b.size);
    return b;
  }
  const reader = res.body.getReader();
  // Chunks go into a Blob rather than one buffer: browsers may keep large Blobs on disk, and tensors are
  // later read from it by range (blobSource), so a multi-gigabyte model never sits whole in the JS heap.
  const chunks: BlobPart[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value as BlobPart);
    loaded += value.byteLength;
    progress(loaded);
  }
  return new Blob(chunks);
}

export interface HubRepoFiles {
  files: Map<string, Blob>;
  /** Optional files that the repository does not have. */
  missing: string[];
}

/**
 * Downloads `files` (all required) and `optional` (skipped on 404) one after another, reporting per-file and
 * overall progress. Files already cached cost nothing.
 */
export async function downloadHubFiles(repo: string, files: string[], opts: HubOptions & { optional?: string[]; onOverall?: (loaded: number, total: number | null) => void } = {}): Promise<HubRepoFiles> {
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
  for (const { f, optional } of all) {
    try {
      const blob = await downloadHubFile(repo, f, {
        ...opts,
        onProgress: (p) => {
          sizes.set(f, { loaded: p.loaded, total: p.total });
          opts.onProgress?.(p);
          overall();
        },
      });
      out.set(f, blob);
    } catch (e) {
      if (optional && e instanceof HubFileNotFoundError) missing.push(f);
      else throw e;
    }
  }
  return { files: out, missing };
}

/**
 * The files a model repository needs, single-file or sharded: the weights come from model.safetensors, or
 * from the shards model.safetensors.index.json names.
 */
export async function downloadHubModel(repo: string, opts: HubOptions & { onOverall?: (loaded: number, total: number | null) => void } = {}): Promise<HubRepoFiles> {
  const base = await downloadHubFiles(repo, ['config.json', 'tokenizer.json'], { ...opts, optional: ['tokenizer_config.json', 'generation_config.json', 'model.safetensors.index.json'] });
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
  const onOverall = opts.onOverall;
  const w = await downloadHubFiles(repo, weights, { ...opts, onOverall: onOverall && ((l, t) => onOverall(baseBytes + l, t === null ? null : baseBytes + t)) });
  for (const [k, v] of w.files) base.files.set(k, v);
  return base;
}
