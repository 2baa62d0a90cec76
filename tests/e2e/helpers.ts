// End-to-end plumbing: build the app (cached by source mtime), serve it, drive Debian's chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = path.join(ROOT, '.artifacts/screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const SOURCES = ['src', 'index.html', 'public', 'vite.config.ts', 'tests/ui/fake-engine.ts', 'tests/ui/fake-entry.ts'];
const ENGINE_ENTRY = path.join(ROOT, 'src/ui/engine.ts');
const FAKE_ENTRY = path.join(ROOT, 'tests/ui/fake-entry.ts');

/**
 * The UI flow's build: src/ui/engine.ts (the worker client) resolves to tests/ui/fake-entry.ts (the synthetic
 * engine). Only this test build carries the plugin, so the app's sources never import a test file.
 */
function fakeEnginePlugin(): import('vite').Plugin {
  return {
    name: 'e2e:fake-engine',
    enforce: 'pre',
    async resolveId(id, importer, options) {
      const r = await this.resolve(id, importer, { ...options, skipSelf: true });
      return r && path.resolve(r.id) === ENGINE_ENTRY ? FAKE_ENTRY : null;
    },
  };
}

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, e)));
  return max;
}

function isFresh(outDir: string): boolean {
  const index = path.join(outDir, 'index.html');
  if (!fs.existsSync(index)) return false;
  const built = fs.statSync(index).mtimeMs;
  return SOURCES.every((s) => newestMtime(path.join(ROOT, s)) <= built);
}

/**
 * Returns a directory holding a build of the app that is newer than its sources, building if needed.
 * `fake: true` builds with the synthetic engine (fakeEnginePlugin) for UI flows that need no GPU worker.
 */
export async function ensureBuild(opts: { fake?: boolean } = {}): Promise<string> {
  if (!opts.fake && isFresh(path.join(ROOT, 'dist'))) return path.join(ROOT, 'dist');
  const builds = path.join(ROOT, '.artifacts/e2e-build');
  const kind = opts.fake ? 'fake' : 'real';
  fs.mkdirSync(builds, { recursive: true });
  // Test files run in parallel processes: each builds into a folder of its own, so one never empties a
  // folder another is serving. A fresh earlier build of the same kind is reused.
  const mine = `${kind}-${process.pid}`;
  for (const d of fs.readdirSync(builds).filter((d) => d.startsWith(`${kind}-`)).sort().reverse()) {
    if (isFresh(path.join(builds, d))) return path.join(builds, d);
    // Stale leftovers only: a folder another process may still be building or serving is left alone.
    const age = Date.now() - fs.statSync(path.join(builds, d)).mtimeMs;
    if (d !== mine && age > 30 * 60_000) fs.rmSync(path.join(builds, d), { recursive: true, force: true, maxRetries: 2 });
  }
  const outDir = path.join(builds, mine);
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, which would make this a development build (React's dev bundle,
  // import.meta.env.DEV true): test what ships.
  const savedNodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: ROOT, configFile: path.join(ROOT, 'vite.config.ts'), mode: 'production', logLevel: 'warn', plugins: opts.fake ? [fakeEnginePlugin()] : [], build: { outDir, emptyOutDir: true } });
  } finally {
    if (savedNodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = savedNodeEnv;
  }
  return outDir;
}

export interface Server {
  url: string;
  close(): Promise<void>;
}

/** `vite preview` of a build folder on a free loopback port, with the config's COOP/COEP headers (as `npm start`). */
export async function startServer(root: string): Promise<Server> {
  const { preview } = await import('vite');
  const server = await preview({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: root },
    preview: { port: 0, strictPort: true, host: '127.0.0.1', open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error(`vite preview of ${root} reported no local URL`);
  return { url, close: () => server.close() };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpo-e2e-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    timeout: 20_000,
    args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu'],
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** One e2e file's studio: its build served, Chromium on a fresh profile, the page's errors collected. */
export interface E2eStudio {
  server: Server;
  browser: Browser;
  page: Page;
  errors: string[];
  /** Closes the browser (the only thing that stops a shader that never returns) and the server. */
  close(): Promise<void>;
}

/**
 * Serves the app's build (`fake`: the synthetic engine's) and opens it in Chromium, with a watchdog that closes
 * the browser once the file has run `budgetMs` (`onOverBudget` says so first), so a hung GPU wait ends the file.
 */
export async function openStudio(budgetMs: number, opts: { fake?: boolean; onOverBudget?: () => void } = {}): Promise<E2eStudio> {
  let browser: Browser | undefined;
  let server: Server | undefined;
  const watchdog = setTimeout(() => {
    opts.onOverBudget?.();
    void browser?.close();
  }, budgetMs);
  const close = async () => {
    clearTimeout(watchdog);
    await browser?.close();
    await server?.close();
  };
  try {
    server = await startServer(await ensureBuild({ fake: opts.fake }));
    browser = await launchBrowser();
  } catch (e) {
    await close();
    throw e;
  }
  return { server, browser, page: browser.page, errors: watchErrors(browser.page), close };
}

/** Collects page errors and console errors, so a test can assert the page stayed clean. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Drops a file on the element matching `selector` the way a user's drag and drop does (a real DataTransfer). */
export async function dropFile(page: Page, selector: string, name: string, bytes: Uint8Array | string, type = ''): Promise<void> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  await page.locator(selector).first().evaluate(
    (el, { name, b64, type }) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], name, { type }));
      for (const t of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(t, { bubbles: true, cancelable: true, dataTransfer: dt }));
    },
    { name, b64: data.toString('base64'), type },
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  // A full-page shot keeps the scroll offset, which draws the sticky step list halfway down the page.
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A small TRL-style preference file with one malformed line and one identical pair, for the data screen. */
export function sampleJsonl(rows = 40): string {
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    out.push(
      JSON.stringify({
        prompt: `Translate this from German to English:\nGerman: Satz Nummer ${i} ist kurz.\nEnglish:`,
        chosen: ` Sentence number ${i} is short.`,
        rejected: ` Sentence ${i} are short.`,
        lang_pair: 'de-en',
      }),
    );
  }
  out.splice(5, 0, '{"prompt": "broken');
  out.splice(9, 0, JSON.stringify({ prompt: 'p', chosen: 'same', rejected: 'same' }));
  return out.join('\n') + '\n';
}
