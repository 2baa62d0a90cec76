// The Cache API store in Chromium (the real Cache API, not a stand-in): bodies stream into the cache, a
// connection dropped mid-file leaves no entry, and the next attempt stores the whole file. The page and
// src/io/hub.ts (transpiled as is, with the one module it imports, src/settings.ts, at the path its import
// resolves to) are served by the local Hub-shaped server itself.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../e2e/helpers.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';

const N = 3 << 20; // 3 MiB of weights: several network chunks
let hub: FakeHub;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  const weights = new Uint8Array(N).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
  hub = await startFakeHub({ 'org/m': { revisions: { main: { 'config.json': '{}', 'tokenizer.json': '{}', 'model.safetensors': weights } } } });
  const js = (path: string) =>
    ts.transpileModule(readFileSync(new URL(path, import.meta.url), 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  hub.statics.set('/static/hub.js', { type: 'text/javascript', body: js('../../src/io/hub.ts') });
  hub.statics.set('/settings.ts', { type: 'text/javascript', body: js('../../src/settings.ts') });
  hub.statics.set('/static/index.html', { type: 'text/html', body: '<!doctype html><title>hub</title><script type="module">window.hub = await import("/static/hub.js");</script>' });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await hub?.stop();
});

describe('Hub downloads in Chromium', () => {
  it('a cut download leaves no Cache API entry; the retry stores the whole file, keyed by commit', async () => {
    const { page } = browser;
    await page.goto(`${hub.url}/static/index.html`);
    await page.waitForFunction(() => 'hub' in window);
    hub.cut = { path: 'model.safetensors', afterBytes: 1 << 20, times: 1 };
    const r = await page.evaluate(async (hubUrl) => {
      // (the module comes from the page's own script: vitest rewrites import() inside this function)
      const m = (window as unknown as { hub: typeof import('../../src/io/hub.ts') }).hub;
      const cache = await caches.open('hub-test');
      const keys = async () => (await cache.keys()).map((k) => new URL(k.url).pathname);
      let error = '';
      try {
        await m.downloadHubModel('org/m', { hubUrl, cache });
      } catch (e) {
        error = (e as Error).message;
      }
      const afterCut = await keys();
      const ok = await m.downloadHubModel('org/m', { hubUrl, cache });
      const blob = ok.files.get('model.safetensors') as Blob;
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let sum = 0;
      for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i] * (i % 251)) % 1_000_000_007;
      return { error, afterCut, afterRetry: await keys(), size: blob.size, sum, commit: ok.commit };
    }, hub.url);
    const weights = new Uint8Array(N).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) sum = (sum + weights[i] * (i % 251)) % 1_000_000_007;
    expect(r.error).toMatch(/org\/m\/model\.safetensors: (download cut off|got \d+ bytes, expected 3145728)/);
    expect(r.afterCut.some((k) => k.endsWith('/model.safetensors'))).toBe(false);
    expect(r.afterCut.some((k) => k.endsWith('/config.json'))).toBe(true);
    expect(r.afterRetry).toContain(`/org/m/resolve/${hub.commitOf('org/m')}/model.safetensors`);
    expect(r.commit).toBe(hub.commitOf('org/m'));
    expect([r.size, r.sum]).toEqual([N, sum]);
  }, 60_000);
});
