// A local HTTP server on 127.0.0.1 that answers like the Hugging Face Hub, for tests that must not reach the
// internet: the revision API (`/api/{models,datasets}/REPO/revision/REV?blobs=true` with sha and siblings),
// `/resolve/` with X-Repo-Commit and ETag / X-Linked-Etag / X-Linked-Size, LFS files redirected (302) to a
// CDN path as the Hub does, Range requests (206), If-None-Match (304), gated repositories (401 without the
// token), and faults on demand: a connection dropped after N bytes of a file. CORS as the Hub answers it
// (Access-Control-Allow-Origin *, preflights for Authorization and Range), so a page served from another
// 127.0.0.1 port — the studio in the browser tests — can use it.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRepoSpec {
  type?: 'model' | 'dataset';
  /** revision name → files (path → content) */
  revisions: Record<string, Record<string, Uint8Array | string>>;
  /** Requests need `Authorization: Bearer <token>`. */
  token?: string;
}

export interface HubRequest {
  method: string;
  path: string;
  range?: string;
  auth?: string;
}

interface Stored {
  bytes: Uint8Array;
  lfs: boolean;
  sha256: string;
  blobId: string;
}

const enc = (v: Uint8Array | string) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
const sha = (alg: string, ...parts: (Uint8Array | string)[]) => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** Files at least this large, and every .safetensors / .parquet, are LFS files (redirected to the CDN). */
const LFS_MIN = 4096;

export class FakeHub {
  readonly requests: HubRequest[] = [];
  /** Drop the connection after `afterBytes` of the body, for the next `times` GETs whose path contains `path`. */
  cut: { path: string; afterBytes: number; times: number } | null = null;
  private server!: Server;
  private repos = new Map<string, { spec: HubRepoSpec; commits: Map<string, { sha: string; files: Map<string, Stored> }> }>();
  private cdn = new Map<string, Uint8Array>();
  /** sha256 → the paths that hold it, so a cut can name a file served from the CDN path. */
  private names = new Map<string, string[]>();
  url = '';
  /** Extra files served as-is under /static/ (a page and its script, for browser tests on this origin). */
  readonly statics = new Map<string, { type: string; body: string }>();

  constructor(repos: Record<string, HubRepoSpec>) {
    for (const [id, spec] of Object.entries(repos)) this.setRepo(id, spec);
  }

  /** (Re)defines a repository; a changed revision gets a new commit sha, as a push would. */
  setRepo(id: string, spec: HubRepoSpec): void {
    const commits = new Map<string, { sha: string; files: Map<string, Stored> }>();
    // Old commits stay reachable by their sha, as on the Hub.
    for (const c of this.repos.get(`${spec.type ?? 'model'}:${id}`)?.commits.values() ?? []) commits.set(c.sha, c);
    for (const [rev, files] of Object.entries(spec.revisions)) {
      const stored = new Map<string, Stored>();
      for (const [path, content] of Object.entries(files)) {
        const bytes = enc(content);
        const s: Stored = {
          bytes,
          lfs: bytes.length >= LFS_MIN || /\.(safetensors|parquet)$/.test(path),
          sha256: sha('sha256', bytes),
          blobId: sha('sha1', `blob ${bytes.length}\0`, bytes),
        };
        stored.set(path, s);
        this.cdn.set(s.sha256, bytes);
        this.names.set(s.sha256, [...(this.names.get(s.sha256) ?? []), path]);
      }
      const commitSha = sha('sha1', id, rev, ...[...stored].map(([p, s]) => p + s.sha256));
      commits.set(rev, { sha: commitSha, files: stored });
    }
    this.repos.set(`${spec.type ?? 'model'}:${id}`, { spec, commits });
  }

  commitOf(id: string, rev = 'main', type: 'model' | 'dataset' = 'model'): string {
    return this.repos.get(`${type}:${id}`)!.commits.get(rev)!.sha;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      try {
        this.handle(req, res);
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
    // Idle connections stay open for the whole test, so a slow assertion between two requests never races
    // the server closing the socket fetch is about to reuse.
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  /** Requests whose path contains `part`. */
  hits(part: string, method = 'GET'): HubRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.includes(part));
  }

  private json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private findRepo(type: string, id: string, req: IncomingMessage, res: ServerResponse) {
    const repo = this.repos.get(`${type}:${id}`);
    if (!repo) {
      this.json(res, 404, { error: 'Repository not found' });
      return null;
    }
    if (repo.spec.token && req.headers.authorization !== `Bearer ${repo.spec.token}`) {
      this.json(res, 401, { error: `Access to ${type} ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.` });
      return null;
    }
    return repo;
  }

  /** A revision name or a commit sha. */
  private commit(repo: { commits: Map<string, { sha: string; files: Map<string, Stored> }> }, rev: string) {
    return repo.commits.get(rev) ?? [...repo.commits.values()].find((c) => c.sha === rev);
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url!, 'http://x');
    const path = decodeURIComponent(u.pathname);
    this.requests.push({ method: req.method!, path: u.pathname + u.search, range: req.headers.range, auth: req.headers.authorization });
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          'access-control-allow-methods': 'GET, HEAD, OPTIONS',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, range',
          'access-control-max-age': '600',
        })
        .end();
      return;
    }

    const st = this.statics.get(path);
    if (st) {
      res.writeHead(200, { 'content-type': st.type }).end(st.body);
      return;
    }
    let m = /^\/api\/(model|dataset)s\/([^/]+\/[^/]+|[^/]+)\/revision\/(.+)$/.exec(path);
    if (m) {
      const repo = this.findRepo(m[1], m[2], req, res);
      if (!repo) return;
      const c = this.commit(repo, m[3]);
      if (!c) return this.json(res, 404, { error: `Invalid rev id: ${m[3]}` });
      return this.json(res, 200, {
        _id: sha('md5', m[2]).slice(0, 24),
        id: m[2],
        sha: c.sha,
        private: false,
        gated: repo.spec.token ? 'auto' : false,
        siblings: [...c.files].map(([rfilename, s]) => ({
          rfilename,
          size: s.bytes.length,
          blobId: s.blobId,
          ...(s.lfs ? { lfs: { sha256: s.sha256, size: s.bytes.length, pointerSize: 134 } } : {}),
        })),
      });
    }
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (m) {
      const bytes = this.cdn.get(m[1]);
      if (!bytes) return res.writeHead(404).end();
      return this.sendBytes(req, res, [path, ...(this.names.get(m[1]) ?? [])], bytes, { etag: `"${m[1]}"` });
    }
    m = /^\/(datasets\/)?([^/]+\/[^/]+|[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
    if (m) {
      const type = m[1] ? 'dataset' : 'model';
      const id = decodeURIComponent(m[2]);
      const repo = this.findRepo(type, id, req, res);
      if (!repo) return;
      const c = this.commit(repo, decodeURIComponent(m[3]));
      if (!c) return this.json(res, 404, { error: `Invalid rev id: ${decodeURIComponent(m[3])}` });
      const file = m[4].split('/').map(decodeURIComponent).join('/');
      const s = c.files.get(file);
      const common = { 'x-repo-commit': c.sha, 'access-control-expose-headers': 'X-Repo-Commit,ETag,X-Linked-Etag,X-Linked-Size' };
      if (!s) {
        res.writeHead(404, { ...common, 'x-error-code': 'EntryNotFound', 'content-type': 'text/plain' }).end('Entry not found');
        return;
      }
      if (s.lfs) {
        res
          .writeHead(302, {
            ...common,
            location: `${this.url}/cdn/${s.sha256}`,
            etag: `"${s.sha256}"`,
            'x-linked-etag': `"${s.sha256}"`,
            'x-linked-size': String(s.bytes.length),
          })
          .end();
        return;
      }
      return this.sendBytes(req, res, [path], s.bytes, { ...common, etag: `"${s.blobId}"` });
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  }

  private sendBytes(req: IncomingMessage, res: ServerResponse, names: string[], bytes: Uint8Array, headers: Record<string, string>) {
    if (req.headers['if-none-match'] && req.headers['if-none-match'] === headers.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    let start = 0;
    let end = bytes.length; // exclusive
    let status = 200;
    const range = req.headers.range && /^bytes=(\d+)-(\d*)$/.exec(req.headers.range);
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(bytes.length, Number(range[2]) + 1) : bytes.length;
      if (start >= bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      status = 206;
      headers = { ...headers, 'content-range': `bytes ${start}-${end - 1}/${bytes.length}` };
    }
    res.writeHead(status, { ...headers, 'accept-ranges': 'bytes', 'content-length': String(end - start), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    const body = bytes.subarray(start, end);
    const cut = this.cut;
    if (cut && cut.times > 0 && names.some((n) => n.includes(cut.path))) {
      cut.times--;
      // Half the promised body, then the connection goes: what a dropped network looks like to fetch.
      res.write(body.subarray(0, cut.afterBytes), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  }
}

export async function startFakeHub(repos: Record<string, HubRepoSpec>): Promise<FakeHub> {
  return new FakeHub(repos).start();
}
