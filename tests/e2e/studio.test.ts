// End-to-end: the built app in Debian's chromium (SwiftShader WebGPU), served by scripts/serve.mjs.
// "app" runs the production build (real worker client); "UI flow" runs a build with the synthetic engine,
// so every screen can be driven fast and without the GPU worker. The same flow on the real engine (worker,
// SwiftShader WebGPU, IndexedDB checkpoints, reload and resume) is studio-real.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, launchBrowser, dropFile, sampleJsonl, screenshot, startServer, watchErrors, type Browser, type Server } from './helpers.ts';

describe('app (production build)', () => {
  let server: Server;
  let browser: Browser;
  let errors: string[];

  beforeAll(async () => {
    server = await startServer(await ensureBuild());
    browser = await launchBrowser();
    errors = watchErrors(browser.page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 15_000);

  it('loads and reports the WebGPU adapter', async () => {
    const { page } = browser;
    const res = await page.goto(server.url, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    await expect.poll(() => page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.getByRole('heading', { name: 'Start', level: 1 }).waitFor();
    const facts = page.getByTestId('gpu-facts');
    await facts.waitFor({ timeout: 20_000 });
    expect(await facts.textContent()).toMatch(/swiftshader/i);
    await screenshot(page, 'app-start');
  }, 30_000);

  it('offers the tiny demo model and a dataset input', async () => {
    const { page } = browser;
    await page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name: /^Model/ }).click();
    const model = page.getByRole('combobox', { name: 'Model', exact: true });
    await model.waitFor();
    expect(await model.locator('option', { hasText: 'Tiny demo model' }).count()).toBe(1);
    await screenshot(page, 'app-model');
    await page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name: /^Data/ }).click();
    await page.getByRole('region', { name: 'Dataset', exact: true }).waitFor();
    expect(await page.locator('input[type=file][aria-label="Dataset"]').count()).toBe(1);
    expect(errors.filter((e) => !/engine worker|not implemented/i.test(e))).toEqual([]);
  }, 20_000);
});

describe('UI flow (synthetic engine)', () => {
  let server: Server;
  let browser: Browser;
  let errors: string[];
  const nav = (name: RegExp) => browser.page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name });

  beforeAll(async () => {
    server = await startServer(await ensureBuild({ fake: true }));
    browser = await launchBrowser();
    errors = watchErrors(browser.page);
    await browser.page.goto(`${server.url}?stepMs=40`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 15_000);

  it('loads the demo model', async () => {
    const { page } = browser;
    await nav(/^Model/).click();
    await page.getByRole('button', { name: 'Load model' }).click();
    await page.getByRole('heading', { name: /Loaded: tiny-demo/ }).waitFor();
  }, 15_000);

  it('reads a dropped dataset and shows preview and report', async () => {
    const { page } = browser;
    await nav(/^Data/).click();
    await dropFile(page, 'section[aria-label="Dataset"]', 'prefs.jsonl', sampleJsonl());
    await page.getByRole('heading', { name: 'Validation report' }).waitFor();
    expect(await page.getByTestId('data-format').textContent()).toMatch(/TRL/);
    await expect.poll(() => page.locator('.preview-row').count()).toBe(3);
    expect(await page.getByRole('cell', { name: 'Malformed JSON' }).count()).toBe(1);
    await screenshot(page, 'flow-data');
  }, 15_000);

  it('validates hyperparameters inline', async () => {
    const { page } = browser;
    await nav(/^Training/).click();
    await page.getByRole('radio', { name: /Quick try/ }).click();
    const lr = page.getByRole('textbox', { name: 'Learning rate', exact: true });
    await lr.fill('5');
    await page.getByText('Learning rate must be between 1e-7 and 1').waitFor();
    expect(await page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(true);
    await screenshot(page, 'flow-training-error');
    await lr.fill('5e-4');
    await expect.poll(() => page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(false);
  }, 15_000);

  it('trains with pause and resume, drawing the charts', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor();
    await expect.poll(() => page.locator('.badge.phase-running').count()).toBe(1);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.phase-paused').first().waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('.badge.phase-finished').first().waitFor({ timeout: 15_000 });
    expect(await page.getByRole('progressbar', { name: 'Training progress' }).getAttribute('aria-valuenow')).toBe('30');
    await expect.poll(() => page.locator('#chart-loss-desc').textContent()).toMatch(/30 points up to step 30/);
    await page.locator('canvas[aria-labelledby="chart-loss-title"]').hover({ position: { x: 200, y: 80 } });
    await screenshot(page, 'flow-run');
  }, 30_000);

  it('lists the run and downloads its adapter', async () => {
    const { page } = browser;
    await nav(/^Runs/).click();
    await page.getByRole('row', { name: /quick-try/ }).waitFor();
    const names: string[] = [];
    page.on('download', (d) => names.push(d.suggestedFilename()));
    await page.getByRole('button', { name: 'Download adapter of quick-try' }).click();
    await expect.poll(() => names.sort(), { timeout: 10_000 }).toEqual(['quick-try-adapter_config.json', 'quick-try-adapter_model.safetensors']);
    await screenshot(page, 'flow-runs');
  }, 20_000);

  it('refuses a second run while another tab holds the run lock', async () => {
    const { page, context } = browser;
    const other = await context.newPage();
    await other.goto(`${server.url}?stepMs=40`);
    // The other tab takes the lock as a training run would, and keeps it. The evaluate returns once the lock is
    // granted: returning at the request raced the click below, which then took the free lock itself (seen twice in
    // full runs with another test file loading the machine).
    await other.evaluate(() => new Promise<void>((held) => {
      void navigator.locks.request('cpo-studio-run', () => {
        held();
        return new Promise(() => {});
      });
    }));
    expect(await page.evaluate(async () => (await navigator.locks.query()).held?.map((l) => l.name))).toContain('cpo-studio-run');
    // A new tab hides the first one, and Chromium throttles timers in hidden tabs.
    await page.bringToFront();
    await nav(/^Run\b/).click();
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByText(/Another CPO Studio tab or window is already training/).waitFor();
    await screenshot(page, 'flow-lock');
    await other.close();
    // The refused start left the finished run and its curves in place.
    expect(await page.locator('.badge.phase-finished').count()).toBe(1);
  }, 20_000);

  it('asks for a column mapping when the layout is unknown', async () => {
    const { page } = browser;
    await nav(/^Data/).click();
    const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ src: `Satz ${i}.`, good: `Sentence ${i}.`, bad: `Sentences ${i}.` })).join('\n');
    await dropFile(page, 'section[aria-label="Dataset"]', 'odd.jsonl', rows);
    await page.getByRole('heading', { name: 'Column mapping' }).waitFor();
    await page.getByRole('combobox', { name: 'Prompt column holds' }).selectOption('source');
    await page.getByRole('combobox', { name: 'Source column' }).selectOption('src');
    await page.getByRole('combobox', { name: 'Chosen column' }).selectOption('good');
    await page.getByRole('combobox', { name: 'Rejected column' }).selectOption('bad');
    await page.getByRole('textbox', { name: 'Language pair' }).fill('de-en');
    await screenshot(page, 'flow-mapping');
    await page.getByRole('button', { name: 'Read with this mapping' }).click();
    await page.getByRole('heading', { name: 'Validation report' }).waitFor();
    expect(await page.getByTestId('data-format').textContent()).toMatch(/mapping/i);
  }, 15_000);

  it('translates one sentence with the base model and with the adapter', async () => {
    const { page } = browser;
    await page.goto(`${server.url}?compare=1`);
    await nav(/^Compare/).click();
    await page.getByRole('combobox', { name: 'Example' }).selectOption({ index: 1 });
    // A fresh page has no model loaded, so Translate stays off: the fake engine's runs live in the page.
    expect(await page.getByRole('button', { name: 'Translate' }).isDisabled()).toBe(true);
    await page.evaluate(async () => {
      const { store } = (globalThis as unknown as { __studio: { store: { getState(): { loadModel(): Promise<void>; setCompare(p: object): void } } } }).__studio;
      await store.getState().loadModel();
      store.getState().setCompare({ compareRunId: 'run-001' });
    });
    await page.getByRole('button', { name: 'Translate' }).click();
    await page.getByRole('heading', { name: 'With adapter' }).waitFor();
    expect(await page.locator('.translation').last().textContent()).toMatch(/with run-001/);
    await screenshot(page, 'flow-compare');
    expect(errors).toEqual([]);
  }, 15_000);
});
