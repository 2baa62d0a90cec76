import { describe, expect, it } from 'vitest';
import { downloadHubFile, downloadHubFiles, downloadHubModel, hubFileUrl, HubFileNotFoundError, type CacheLike, type HubProgress } from '../../src/io/hub.ts';
import { rejects } from './helpers.ts';

/** A fake Hub: files by URL, served in small chunks with Content-Length, counting requests. */
function fakeHub(files: Record<string, Uint8Array | string>, opts: { lieAboutLength?: boolean } = {}) {
  const requests: string[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    const url = String(input);
    requests.push(url);
    const m = /^https:\/\/huggingface\.co\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url);
    const body = m ? files[`${m[1]}/${decodeURIComponent(m[2])}`] : undefined;
    if (body === undefined) return new Response('Entry not found', { status: 404 });
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.slice(i, i + 5));
        c.close();
      },
    });
    return new Response(stream, { headers: { 'content-length': String(bytes.length + (opts.lieAboutLength ? 10 : 0)) } });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

function memoryCache(): CacheLike & { store: Map<string, Uint8Array> } {
  const store = new Map<string, Uint8Array>();
  return {
    store,
    async match(url) {
      const b = store.get(url);
      return b ? new Response(b as BodyInit) : undefined;
    },
    async put(url, res) {
      store.set(url, new Uint8Array(await res.arrayBuffer()));
    },
  };
}

describe('hub', () => {
  it('builds resolve URLs and refuses odd repository ids', () => {
    expect(hubFileUrl('org/model', 'sub dir/file.json')).toBe('https://huggingface.co/org/model/resolve/main/sub%20dir/file.json');
    expect(hubFileUrl('gpt2', 'config.json', 'v1.0')).toBe('https://huggingface.co/gpt2/resolve/v1.0/config.json');
    expect(() => hubFileUrl('../etc', 'x')).toThrow(/not a repository id/);
  });

  it('streams with progress, caches, and serves the second request from the cache', async () => {
    const data = new Uint8Array(23).map((_, i) => i);
    const hub = fakeHub({ 'org/m/model.safetensors': data });
    const cache = memoryCache();
    const events: HubProgress[] = [];
    const first = await downloadHubFile('org/m', 'model.safetensors', { fetch: hub.fetch, cache, onProgress: (p) => events.push(p) });
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(data);
    expect(events.map((e) => e.loaded)).toEqual([5, 10, 15, 20, 23, 23]);
    expect(events.every((e) => e.total === 23 && !e.fromCache)).toBe(true);
    expect(events.at(-1)!.done).toBe(true);
    expect(hub.requests.length).toBe(1);
    const again: HubProgress[] = [];
    const second = await downloadHubFile('org/m', 'model.safetensors', { fetch: hub.fetch, cache, onProgress: (p) => again.push(p) });
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(data);
    expect(hub.requests.length).toBe(1);
    expect(again).toEqual([{ file: 'model.safetensors', loaded: 23, total: 23, fromCache: true, done: true }]);
  });

  it('does not cache a cut download, and reports missing files', async () => {
    const hub = fakeHub({ 'org/m/a.bin': 'abc' }, { lieAboutLength: true });
    const cache = memoryCache();
    expect(await rejects(downloadHubFile('org/m', 'a.bin', { fetch: hub.fetch, cache }))).toMatch(/org\/m\/a\.bin: got 3 bytes, expected 13/);
    expect(cache.store.size).toBe(0);
    const err = await downloadHubFile('org/m', 'nope.json', { fetch: hub.fetch, cache }).catch((e) => e);
    expect(err).toBeInstanceOf(HubFileNotFoundError);
    expect(err.message).toMatch(/org\/m\/nope\.json: not found/);
    const r = await downloadHubFiles('org/m', [], { fetch: fakeHub({ 'org/m/x': 'x' }).fetch, cache: null, optional: ['x', 'y'] });
    expect([...r.files.keys(), r.missing]).toEqual(['x', ['y']]);
  });

  it('downloads a sharded model: config, tokenizer and every shard the index names, with overall progress', async () => {
    const index = { weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors', c: 'model-2.safetensors' } };
    const hub = fakeHub({
      'o/s/config.json': '{}', 'o/s/tokenizer.json': '{"model":{}}', 'o/s/model.safetensors.index.json': JSON.stringify(index),
      'o/s/model-1.safetensors': 'one', 'o/s/model-2.safetensors': 'two!',
    });
    const overall: number[] = [];
    const r = await downloadHubModel('o/s', { fetch: hub.fetch, cache: null, onOverall: (loaded) => overall.push(loaded) });
    expect([...r.files.keys()].sort()).toEqual(['config.json', 'model-1.safetensors', 'model-2.safetensors', 'model.safetensors.index.json', 'tokenizer.json']);
    expect(r.missing.sort()).toEqual(['generation_config.json', 'tokenizer_config.json']);
    expect(await r.files.get('model-2.safetensors')!.text()).toBe('two!');
    expect(overall.at(-1)).toBe(2 + 12 + JSON.stringify(index).length + 3 + 4);
    for (let i = 1; i < overall.length; i++) expect(overall[i]).toBeGreaterThanOrEqual(overall[i - 1]);
  });
});
