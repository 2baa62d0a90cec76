// Hub downloads against a local Hub-shaped server (tests/helpers/hub-server.ts): commit pinning, streaming
// into the Cache API store, tokens, and a connection dropped mid-file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadHubFile, downloadHubModel, hubFileUrl, HubFileNotFoundError, type CacheLike, type HubProgress } from '../../src/io/hub.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';
import { rejects } from './helpers.ts';

/** A Cache API stand-in that, like the real one, reads the body as a stream and stores nothing when it errors. */
function memoryCache(): CacheLike & { store: Map<string, Uint8Array>; chunks: number[] } {
  const store = new Map<string, Uint8Array>();
  const chunks: number[] = [];
  return {
    store,
    chunks,
    async match(url) {
      const b = store.get(url);
      return b ? new Response(b as BodyInit) : undefined;
    },
    async put(url, res) {
      const parts: Uint8Array[] = [];
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
      chunks.push(parts.length);
      store.set(url, new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer()));
    },
    async delete(url) {
      return store.delete(url);
    },
  };
}

const weights = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed * 7) & 0xff);
const shardIndex = { weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors', c: 'model-2.safetensors' } };

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({
    'org/m': { revisions: { main: { 'config.json': '{"model_type":"llama"}', 'tokenizer.json': '{"model":{}}', 'model.safetensors': weights(200_000) } } },
    'o/sharded': {
      revisions: {
        main: {
          'config.json': '{}', 'tokenizer.json': '{"model":{}}', 'model.safetensors.index.json': JSON.stringify(shardIndex),
          'model-1.safetensors': weights(5000, 2), 'model-2.safetensors': weights(7000, 3),
        },
      },
    },
    'gated/m': { token: 'hf_secret', revisions: { main: { 'config.json': '{}', 'tokenizer.json': '{}', 'model.safetensors': weights(10) } } },
  });
});
afterAll(() => hub.stop());

describe('hub', () => {
  it('builds resolve URLs and refuses odd repository ids', () => {
    expect(hubFileUrl('org/model', 'sub dir/file.json')).toBe('https://huggingface.co/org/model/resolve/main/sub%20dir/file.json');
    expect(hubFileUrl('gpt2', 'config.json', 'v1.0')).toBe('https://huggingface.co/gpt2/resolve/v1.0/config.json');
    expect(hubFileUrl('o/d', '0000.parquet', 'refs/convert/parquet', 'http://h', 'dataset')).toBe('http://h/datasets/o/d/resolve/refs%2Fconvert%2Fparquet/0000.parquet');
    expect(() => hubFileUrl('../etc', 'x')).toThrow(/not a repository id/);
  });

  it('pins the commit, streams into the cache with progress, and serves the second request from the cache', async () => {
    const cache = memoryCache();
    const events: HubProgress[] = [];
    const before = hub.requests.length;
    const r = await downloadHubModel('org/m', { hubUrl: hub.url, cache, onProgress: (p) => events.push(p) });
    const commit = hub.commitOf('org/m');
    expect(r.commit).toBe(commit);
    expect(Buffer.compare(new Uint8Array(await r.files.get('model.safetensors')!.arrayBuffer()), weights(200_000))).toBe(0); // (vitest's toEqual walks 200k elements for seconds)
    // Every file came from /resolve/<commit>/, the LFS one through the CDN redirect; the cache is keyed by commit.
    const reqs = hub.requests.slice(before).map((q) => q.path);
    expect(reqs[0]).toBe('/api/models/org/m/revision/main?blobs=true');
    expect(reqs.filter((p) => p.includes('/resolve/')).every((p) => p.includes(`/resolve/${commit}/`))).toBe(true);
    expect(reqs.some((p) => p.startsWith('/cdn/'))).toBe(true);
    expect([...cache.store.keys()].filter((k) => k.includes('/resolve/')).every((k) => k.includes(commit))).toBe(true);
    // The body reached the cache as a stream, in many chunks, not as one gathered buffer.
    expect(Math.max(...cache.chunks)).toBeGreaterThan(1);
    const w = events.filter((e) => e.file === 'model.safetensors');
    expect(w.every((e) => e.total === 200_000 && !e.fromCache)).toBe(true);
    expect(w.at(-1)).toMatchObject({ loaded: 200_000, done: true });
    expect(r.missing.sort()).toEqual(['generation_config.json', 'model.safetensors.index.json', 'tokenizer_config.json']);

    const n = hub.requests.length;
    const again: HubProgress[] = [];
    await downloadHubModel('org/m', { hubUrl: hub.url, cache, onProgress: (p) => again.push(p) });
    expect(hub.requests.slice(n).map((q) => q.path)).toEqual(['/api/models/org/m/revision/main?blobs=true']);
    expect(again.every((e) => e.fromCache)).toBe(true);

    // Offline (or the Hub unreachable): the last resolved commit, from the cache alone.
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    for (const o of [{ fetch: down }, { offline: true }]) {
      const off = await downloadHubModel('org/m', { hubUrl: hub.url, cache, ...o });
      expect(off.commit).toBe(commit);
      expect(off.files.get('model.safetensors')!.size).toBe(200_000);
    }
    expect(await rejects(downloadHubModel('o/sharded', { hubUrl: hub.url, cache, fetch: down }))).toMatch(
      /o\/sharded@main: the Hub cannot be reached: network error \(fetch failed\), and it is not in the local cache/,
    );
  });

  it('follows a repository that moved on instead of serving the old commit', async () => {
    const cache = memoryCache();
    hub.setRepo('org/moving', { revisions: { main: { 'config.json': '{"v":1}' } } });
    expect(await (await downloadHubFile('org/moving', 'config.json', { hubUrl: hub.url, cache })).text()).toBe('{"v":1}');
    hub.setRepo('org/moving', { revisions: { main: { 'config.json': '{"v":2}' } } });
    expect(await (await downloadHubFile('org/moving', 'config.json', { hubUrl: hub.url, cache })).text()).toBe('{"v":2}');
    // A pinned revision still gives the old one.
    expect(await (await downloadHubFile('org/moving', 'config.json', { hubUrl: hub.url, cache, revision: [...cache.store.keys()].find((k) => k.includes('/resolve/'))!.split('/resolve/')[1].slice(0, 40) })).text()).toBe('{"v":1}');
  });

  it('downloads a sharded model: every shard the index names, with overall progress', async () => {
    const overall: number[] = [];
    const r = await downloadHubModel('o/sharded', { hubUrl: hub.url, cache: null, onOverall: (loaded) => overall.push(loaded) });
    expect([...r.files.keys()].sort()).toEqual(['config.json', 'model-1.safetensors', 'model-2.safetensors', 'model.safetensors.index.json', 'tokenizer.json']);
    expect(r.missing.sort()).toEqual(['generation_config.json', 'tokenizer_config.json']);
    expect(Buffer.compare(new Uint8Array(await r.files.get('model-2.safetensors')!.arrayBuffer()), weights(7000, 3))).toBe(0);
    expect(overall.at(-1)).toBe(2 + 12 + JSON.stringify(shardIndex).length + 5000 + 7000);
    for (let i = 1; i < overall.length; i++) expect(overall[i]).toBeGreaterThanOrEqual(overall[i - 1]);
  });

  it('sends the token, and names the missing token when a gated repository refuses', async () => {
    expect(await rejects(downloadHubModel('gated/m', { hubUrl: hub.url, cache: null }))).toMatch(/gated\/m@main: access denied \(HTTP 401; gated or private repositories need a token\)/);
    const r = await downloadHubModel('gated/m', { hubUrl: hub.url, cache: null, token: 'hf_secret' });
    expect(r.files.get('model.safetensors')!.size).toBe(10);
    expect(hub.requests.filter((q) => q.path.startsWith('/gated/m/')).every((q) => q.auth === 'Bearer hf_secret')).toBe(true);
    expect(await rejects(downloadHubModel('gated/m', { hubUrl: hub.url, cache: null, token: 'wrong' }))).toMatch(/this one was refused/);
    expect(await rejects(downloadHubModel('no/such', { hubUrl: hub.url, cache: null }))).toMatch(/model no\/such@main: not found/);
    const err = await downloadHubFile('org/m', 'nope.json', { hubUrl: hub.url, cache: null }).catch((e) => e);
    expect(err).toBeInstanceOf(HubFileNotFoundError);
  });

  it('a download cut off mid-file leaves no cache entry, and the next attempt gets the whole file', async () => {
    const cache = memoryCache();
    hub.cut = { path: 'model.safetensors', afterBytes: 70_000, times: 1 };
    const msg = await rejects(downloadHubModel('org/m', { hubUrl: hub.url, cache }));
    expect(msg).toMatch(/org\/m\/model\.safetensors: download cut off|org\/m\/model\.safetensors: got 70000 bytes, expected 200000/);
    expect(hub.cut.times).toBe(0);
    expect([...cache.store.keys()].some((k) => k.endsWith('/model.safetensors'))).toBe(false);
    const r = await downloadHubModel('org/m', { hubUrl: hub.url, cache });
    expect(Buffer.compare(new Uint8Array(await r.files.get('model.safetensors')!.arrayBuffer()), weights(200_000))).toBe(0);
    expect([...cache.store.keys()].some((k) => k.endsWith('/model.safetensors'))).toBe(true);
  });
});
