// Python's Hugging Face cache layout in Node: a tree as huggingface-cli leaves it is used without downloading,
// new downloads are written in the same layout, and a cut download resumes from its .incomplete file.
import { mkdtempSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hfHubCacheDir, hfRepoFolder, hubModelDir, hubOptionsFromEnv } from '../../src/io/hf-cache.ts';
import { resolveModelPath } from '../../src/io/node-data.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';
import { rejects } from './helpers.ts';

const weights = new Uint8Array(300_000).map((_, i) => (i * 13 + 5) & 0xff);
const files = { 'config.json': '{"model_type":"qwen2"}', 'tokenizer.json': '{"model":{}}', 'model.safetensors': weights };

let hub: FakeHub;
let tmp: string;
beforeAll(async () => {
  hub = await startFakeHub({ 'Qwen/Tiny': { revisions: { main: files } }, 'o/fresh': { revisions: { main: files } } });
  tmp = mkdtempSync(join(tmpdir(), 'hf-cache-'));
});
afterAll(async () => {
  await hub.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('Hugging Face cache (Node)', () => {
  it('finds the cache folder as huggingface_hub does', () => {
    expect(hfHubCacheDir({ HF_HUB_CACHE: '/a/hub', HF_HOME: '/b' })).toBe('/a/hub');
    expect(hfHubCacheDir({ HF_HOME: '/b' })).toBe('/b/hub');
    expect(hfHubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
    expect(hfRepoFolder('model', 'Qwen/Qwen2.5-0.5B')).toBe('models--Qwen--Qwen2.5-0.5B');
    expect(hfRepoFolder('dataset', 'trl-lib/ultrafeedback_binarized')).toBe('datasets--trl-lib--ultrafeedback_binarized');
    expect(hubOptionsFromEnv({ HF_ENDPOINT: 'http://h/', HF_TOKEN: 't', HF_HUB_OFFLINE: '1' })).toMatchObject({ hubUrl: 'http://h', token: 't', offline: true });
    expect(hubOptionsFromEnv({ HF_HUB_OFFLINE: '0' }).offline).toBeUndefined();
  });

  it('uses a model that huggingface-cli already downloaded, without fetching a file', async () => {
    // The tree huggingface-cli writes: blobs by etag, snapshot symlinks, refs/main.
    const home = join(tmp, 'py');
    const repo = join(home, 'hub', 'models--Qwen--Tiny');
    const commit = hub.commitOf('Qwen/Tiny');
    for (const [name, body] of Object.entries(files)) {
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      const etag = createHash('sha256').update(bytes).digest('hex');
      await mkdir(join(repo, 'blobs'), { recursive: true });
      await mkdir(join(repo, 'snapshots', commit), { recursive: true });
      await writeFile(join(repo, 'blobs', etag), bytes);
      await symlink(`../../blobs/${etag}`, join(repo, 'snapshots', commit, name));
    }
    await mkdir(join(repo, 'refs'), { recursive: true });
    await writeFile(join(repo, 'refs', 'main'), commit);

    const before = hub.requests.length;
    const r = await hubModelDir('Qwen/Tiny', { env: { HF_HOME: home, HF_ENDPOINT: hub.url } });
    expect(r).toEqual({ dir: join(repo, 'snapshots', commit), commit });
    expect(hub.requests.slice(before).map((q) => q.path)).toEqual(['/api/models/Qwen/Tiny/revision/main?blobs=true']);
    // Offline: not even the revision API.
    const n = hub.requests.length;
    expect(await hubModelDir('Qwen/Tiny', { env: { HF_HUB_CACHE: join(home, 'hub'), HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' } })).toEqual(r);
    expect(hub.requests.length).toBe(n);
    expect(await rejects(hubModelDir('o/fresh', { env: { HF_HOME: home, HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' } }))).toMatch(/o\/fresh@main: offline mode, and it is not in the local cache/);
  });

  it('writes new downloads in the same layout, and resumes a cut download with a Range request', async () => {
    const home = join(tmp, 'ours');
    const env = { HF_HOME: home, HF_ENDPOINT: hub.url };
    const repo = join(home, 'hub', 'models--o--fresh');
    const commit = hub.commitOf('o/fresh');
    const sha256 = createHash('sha256').update(weights).digest('hex');

    hub.cut = { path: 'model.safetensors', afterBytes: 120_000, times: 1 };
    expect(await rejects(hubModelDir('o/fresh', { env }))).toMatch(/o\/fresh\/model\.safetensors: download cut off/);
    // Nothing half-written is visible as the file; the bytes that came are kept for the next attempt.
    await expect(stat(join(repo, 'snapshots', commit, 'model.safetensors'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(repo, 'blobs', sha256))).rejects.toThrow(/ENOENT/);
    const kept = (await stat(join(repo, 'blobs', `${sha256}.incomplete`))).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(120_000); // what arrived before the connection dropped

    const before = hub.requests.length;
    const r = await hubModelDir('o/fresh', { env });
    expect(r).toEqual({ dir: join(repo, 'snapshots', commit), commit });
    const got = hub.requests.slice(before).filter((q) => q.path.startsWith('/cdn/'));
    expect(got.map((q) => q.range)).toEqual([`bytes=${kept}-`]);
    expect(Buffer.compare(new Uint8Array(await readFile(join(r.dir, 'model.safetensors'))), weights)).toBe(0); // (vitest's toEqual walks 200k elements for seconds)
    // huggingface_hub's layout: relative symlinks into blobs/ named by sha256 (LFS) or git blob id, refs/main.
    expect((await lstat(join(r.dir, 'model.safetensors'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(r.dir, 'model.safetensors'))).toBe(`../../blobs/${sha256}`);
    const blobId = createHash('sha1').update(`blob ${files['config.json'].length}\0`).update(files['config.json']).digest('hex');
    expect(await readlink(join(r.dir, 'config.json'))).toBe(`../../blobs/${blobId}`);
    expect(await readFile(join(repo, 'refs', 'main'), 'utf8')).toBe(commit);
    await expect(stat(join(repo, 'blobs', `${sha256}.incomplete`))).rejects.toThrow(/ENOENT/);
  });

  it('resolves --model as a path, else as a Hub id, with download progress', async () => {
    const env = { HF_HOME: join(tmp, 'cli'), HF_ENDPOINT: hub.url };
    expect(await resolveModelPath(tmp, { env })).toBe(tmp);
    const seen: [number, number | null][] = [];
    const dir = await resolveModelPath('o/fresh@main', { env, onDownload: (l, t) => seen.push([l, t]) });
    expect(dir).toBe(join(tmp, 'cli', 'hub', 'models--o--fresh', 'snapshots', hub.commitOf('o/fresh')));
    // From the first event on, the total counts the weights too; it ends at everything downloaded.
    const all = files['config.json'].length + files['tokenizer.json'].length + weights.length;
    expect(seen.every(([, t]) => t === all)).toBe(true);
    expect(seen.at(-1)).toEqual([all, all]);
    expect(await rejects(resolveModelPath('no/such', { env }))).toMatch(/^no\/such: no such file or folder, nor a model on the Hub \(model no\/such@main: not found/);
    expect(await resolveModelPath('./not/here', { env })).toBe('./not/here');
    expect(await resolveModelPath('public/models/tni', { env })).toBe('public/models/tni'); // public/ is a folder here
  });

  it('discards a download whose bytes do not hash to the etag (a corrupt partial file), then fetches it whole', async () => {
    const home = join(tmp, 'corrupt');
    const env = { HF_HOME: home, HF_ENDPOINT: hub.url };
    const repo = join(home, 'hub', 'models--o--fresh');
    const commit = hub.commitOf('o/fresh');
    const sha256 = createHash('sha256').update(weights).digest('hex');
    // A partial file that is not the start of this file (another tool's leftovers, a disk error).
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await writeFile(join(repo, 'blobs', `${sha256}.incomplete`), new Uint8Array(100_000).fill(7));
    expect(await rejects(hubModelDir('o/fresh', { env }))).toMatch(/o\/fresh\/model\.safetensors: the downloaded bytes hash to [0-9a-f]{12}…, not the Hub's [0-9a-f]{12}…; discarded, try again/);
    await expect(stat(join(repo, 'snapshots', commit, 'model.safetensors'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(repo, 'blobs', `${sha256}.incomplete`))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(repo, 'blobs', `${sha256}.lock`))).rejects.toThrow(/ENOENT/);
    const r = await hubModelDir('o/fresh', { env });
    expect(Buffer.compare(new Uint8Array(await readFile(join(r.dir, 'model.safetensors'))), weights)).toBe(0);
  });

  // What the race of two downloads can leave (seen once in CI as "HTTP 416"): a partial file that already holds the
  // whole file, with no lock, because the other download was about to rename it. Resuming at its end asks the Hub
  // for nothing; the file is then fetched whole.
  it('fetches a file whole when its partial file already holds all of it', async () => {
    const home = join(tmp, 'whole-partial');
    const env = { HF_HOME: home, HF_ENDPOINT: hub.url };
    const blobs = join(home, 'hub', 'models--o--fresh', 'blobs');
    const config = files['config.json'];
    const blobId = createHash('sha1').update(`blob ${config.length}\0`).update(config).digest('hex');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, `${blobId}.incomplete`), config);
    const n = hub.requests.length;
    const r = await hubModelDir('o/fresh', { env });
    expect(await readFile(join(r.dir, 'config.json'), 'utf8')).toBe(config);
    expect(hub.requests.slice(n).filter((q) => q.path.endsWith('/config.json')).map((q) => q.range)).toEqual([`bytes=${config.length}-`, undefined]);
    expect((await readdir(blobs)).filter((f) => /\.(lock|incomplete)$/.test(f))).toEqual([]);
  });

  it('lets two downloads of one model take turns on each blob, and takes over a lock a dead process left', async () => {
    const home = join(tmp, 'twice');
    const env = { HF_HOME: home, HF_ENDPOINT: hub.url };
    const repo = join(home, 'hub', 'models--o--fresh');
    const sha256 = createHash('sha256').update(weights).digest('hex');
    const [a, b] = await Promise.all([hubModelDir('o/fresh', { env }), hubModelDir('o/fresh', { env })]);
    expect(b).toEqual(a);
    expect(Buffer.compare(new Uint8Array(await readFile(join(a.dir, 'model.safetensors'))), weights)).toBe(0);
    expect((await readdir(join(repo, 'blobs'))).filter((f) => /\.(lock|incomplete)$/.test(f))).toEqual([]);

    // While a live process (this one) holds a blob's lock, the blob is not written; once released, it is.
    const home1 = join(tmp, 'held');
    const blobs1 = join(home1, 'hub', 'models--o--fresh', 'blobs');
    await mkdir(blobs1, { recursive: true });
    await writeFile(join(blobs1, `${sha256}.lock`), String(process.pid));
    const n = hub.requests.length;
    let settled = false;
    const waiting = hubModelDir('o/fresh', { env: { HF_HOME: home1, HF_ENDPOINT: hub.url } }).finally(() => (settled = true));
    await expect.poll(() => hub.requests.slice(n).some((q) => q.path.startsWith('/cdn/'))).toBe(true);
    await new Promise((r) => setTimeout(r, 600)); // three of the lock's polls
    expect(settled).toBe(false);
    await expect(stat(join(blobs1, sha256))).rejects.toThrow(/ENOENT/);
    await rm(join(blobs1, `${sha256}.lock`));
    expect(Buffer.compare(new Uint8Array(await readFile(join((await waiting).dir, 'model.safetensors'))), weights)).toBe(0);

    // A lock whose process is gone (pid 2^22 + 1 is above Linux's pid_max) does not block the next download.
    const home2 = join(tmp, 'stale');
    const blobs = join(home2, 'hub', 'models--o--fresh', 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, `${sha256}.lock`), String(2 ** 22 + 1));
    const c = await hubModelDir('o/fresh', { env: { HF_HOME: home2, HF_ENDPOINT: hub.url } });
    expect(Buffer.compare(new Uint8Array(await readFile(join(c.dir, 'model.safetensors'))), weights)).toBe(0);
    await expect(stat(join(blobs, `${sha256}.lock`))).rejects.toThrow(/ENOENT/);
  });
});
