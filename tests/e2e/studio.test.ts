// End-to-end: the built app in Debian's chromium (SwiftShader WebGPU), served by `vite preview` (helpers.ts).
// "app" runs the production build (real worker client); "UI flow" runs a build with the synthetic engine,
// so every screen can be driven fast and without the GPU worker. The same flow on the real engine (worker,
// SwiftShader WebGPU, IndexedDB checkpoints, reload and resume) is studio-real.test.ts.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESUMING_MESSAGE } from '../../src/ui/store/training.ts';
import { readZip } from '../ui/zip-reader.ts';
import { ensureBuild, launchBrowser, dropFile, sampleJsonl, screenshot, startServer, watchErrors, type Browser, type Server } from './helpers.ts';

/** The app served from a build (the synthetic engine's with `fake`) and a fresh browser for one describe block, closed after it. */
function servedStudio(opts: { fake?: boolean }): { server: Server; browser: Browser } {
  const studio = {} as { server: Server; browser: Browser };
  beforeAll(async () => {
    studio.server = await startServer(await ensureBuild(opts));
    studio.browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await studio.browser?.close();
    await studio.server?.close();
  }, 15_000);
  return studio;
}

describe('app (production build)', () => {
  const studio = servedStudio({});
  let errors: string[];

  beforeAll(async () => {
    errors = watchErrors(studio.browser.page);
  }, 60_000);

  it('loads and reports the WebGPU adapter', async () => {
    const { page } = studio.browser;
    const res = await page.goto(studio.server.url, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    // A missing file is a 404, not the page's HTML with 200 (the model loader would parse it as JSON).
    // (Fetched from Node: the page would log the 404, and the tests below want a clean console.)
    expect((await fetch(new URL('models/tiny/no-such-file.json', studio.server.url))).status).toBe(404);
    await expect.poll(() => page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.getByRole('heading', { name: 'Start', level: 1 }).waitFor();
    const facts = page.getByTestId('gpu-facts');
    await facts.waitFor({ timeout: 20_000 });
    expect(await facts.textContent()).toMatch(/swiftshader/i);
    await screenshot(page, 'app-start');
  }, 30_000);

  it('offers the tiny demo model and a dataset input', async () => {
    const { page } = studio.browser;
    await page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name: /^Model/ }).click();
    const model = page.getByRole('combobox', { name: 'Model', exact: true });
    await model.waitFor();
    expect(await model.locator('option', { hasText: 'Tiny demo model' }).count()).toBe(1);
    await screenshot(page, 'app-model');
    await page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name: /^Data/ }).click();
    await page.locator('section[aria-label="Dataset"]').waitFor(); // the drop zone (the card around it is titled Dataset too)
    expect(await page.locator('input[type=file][aria-label="Dataset"]').count()).toBe(1);
    expect(errors.filter((e) => !/engine worker|not implemented/i.test(e))).toEqual([]);
  }, 20_000);
});

describe('UI flow (synthetic engine)', () => {
  const studio = servedStudio({ fake: true });
  let errors: string[];
  const nav = (name: RegExp) => studio.browser.page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name });

  beforeAll(async () => {
    errors = watchErrors(studio.browser.page);
    await studio.browser.page.goto(`${studio.server.url}?stepMs=40&tokenizeMs=1500`);
  }, 60_000);

  it('plans on Start without touching the training settings, and ticks Training only when a run could start', async () => {
    const { page } = studio.browser;
    await page.getByRole('heading', { name: 'Start', level: 1 }).waitFor();
    expect(await nav(/^Training/).getAttribute('class')).toMatch(/step-todo/);
    const params = async () => /\(([\d,]+) trainable parameters\)/.exec((await page.locator('.memory').first().textContent()) ?? '')?.[1];
    await expect.poll(params).toBe('8,192');
    await page.getByRole('textbox', { name: 'Batch size (pairs)' }).fill('6');
    await page.getByRole('button', { name: 'Use these for training' }).waitFor();
    const config = () => page.evaluate(() => (globalThis as unknown as { __studio: { store: { getState(): { config: { batchSize: number; preset: string } } } } }).__studio.store.getState().config);
    expect(await config()).toMatchObject({ batchSize: 2, preset: 'quick' });
    await page.getByRole('textbox', { name: 'Batch size (pairs)' }).fill('2');
    // The hash names the screen, and Back goes to the one before.
    await nav(/^Model/).click();
    expect(new URL(page.url()).hash).toBe('#/model');
    await nav(/^Data/).click();
    await page.goBack();
    await page.getByRole('heading', { name: 'Model', level: 1 }).waitFor();
    // The Hub token stays in this tab's session unless remembering is asked for.
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption('hub');
    await page.getByLabel('Access token (optional)').fill('hf_test123');
    expect(await page.evaluate(() => [sessionStorage.getItem('cpo-studio:hub-token'), localStorage.getItem('cpo-studio:hub-token')])).toEqual(['hf_test123', null]);
    await page.getByLabel('Access token (optional)').fill('');
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption('demo');
  }, 20_000);

  it('loads the demo model, then offers Next as the primary button and the same trainable-parameter count', async () => {
    const { page } = studio.browser;
    await nav(/^Model/).click();
    // Every progress bar's label and value as the page shows them, recorded by a MutationObserver: a short phase
    // (the fake compile lasts ~240 ms) cannot be missed by polling on a loaded machine.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seenProgress: string[] }).seenProgress = []);
      const note = () => {
        for (const bar of document.querySelectorAll('[role=progressbar]')) seen.push(`${bar.getAttribute('aria-label')}: ${bar.getAttribute('aria-valuetext')}`);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuetext', 'aria-label'] });
    });
    await page.getByRole('button', { name: 'Load model' }).click();
    await page.getByRole('heading', { name: /Loaded: tiny-demo/ }).waitFor();
    const seen = await page.evaluate(() => (window as unknown as { seenProgress: string[] }).seenProgress);
    // Loading weights counts tensors, and says so (it once said "2 B of 21 B"); then the shaders still compiling
    // once the weights are on the GPU: a named phase counted in pipelines.
    const weights = seen.filter((s) => s.startsWith('Loading weights to the GPU'));
    const compiling = seen.filter((s) => s.startsWith('Compiling shaders'));
    expect(weights.length).toBeGreaterThan(0);
    for (const s of weights) expect(s).toMatch(/: \d of 5 tensors$/);
    expect(compiling.length).toBeGreaterThan(0);
    // Counted against one total, the pipelines this model's step needs (how many depends on the adapter's features).
    const counts = compiling.map((s) => /: (\d+) of (\d+) pipelines$/.exec(s)).map((m) => [Number(m?.[1]), Number(m?.[2])]);
    const total = counts[0][1];
    expect(total).toBeGreaterThan(0);
    for (const [done, of] of counts) expect([of, done <= of]).toEqual([total, true]);
    expect(seen.indexOf(compiling[0])).toBeGreaterThan(seen.indexOf(weights[0]));
    expect(await page.getByRole('button', { name: 'Next: dataset' }).getAttribute('class')).toMatch(/\bprimary\b/);
    expect(await page.getByRole('button', { name: 'Load again' }).getAttribute('class')).toMatch(/\bsecondary\b/);
    await nav(/^Training/).click();
    expect(await page.locator('.memory').first().textContent()).toContain('(8,192 trainable parameters)');
    // Still no dataset: not ticked.
    expect(await nav(/^Training/).getAttribute('class')).toMatch(/step-todo/);
  }, 15_000);

  it('reads a dropped dataset and shows preview and report', async () => {
    const { page } = studio.browser;
    await nav(/^Data/).click();
    // Pairs past max length: the histogram counts them before truncation, marks their bins cut, and says how to keep them.
    const long = Array.from({ length: 4 }, (_, i) => JSON.stringify({ prompt: `Summarise ${i}:`, chosen: ' word'.repeat(150 + i), rejected: ' other'.repeat(150 + i) })).join('\n');
    await dropFile(page, 'section[aria-label="Dataset"]', 'long.jsonl', long);
    await page.getByTestId('cut-hint').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('cut-hint').textContent()).toMatch(/^4 pairs are longer than max length \d+ tokens and were cut\. To train on them whole, raise “Max length \(tokens\)”/);
    const cutBins = await page.getByRole('list', { name: 'Length histogram' }).locator('li.cut').evaluateAll((li) => li.map((e) => e.getAttribute('aria-label')));
    expect(cutBins.some((l) => /: 4 pairs, cut to max length$/.test(l ?? ''))).toBe(true);
    await dropFile(page, 'section[aria-label="Dataset"]', 'prefs.jsonl', sampleJsonl());
    // Tokenizing is a named phase, counted in rows, not a silent wait.
    const tokenizing = page.getByRole('progressbar', { name: /^Tokenizing/ });
    await tokenizing.waitFor({ timeout: 5_000 });
    expect(await tokenizing.getAttribute('aria-valuetext')).toMatch(/^[\d,]+ of [\d,]+ rows$/);
    await screenshot(page, 'flow-data-tokenizing');
    await page.getByRole('heading', { name: 'Validation report' }).waitFor();
    expect(await page.getByTestId('data-format').textContent()).toMatch(/TRL/);
    await expect.poll(() => page.locator('.preview-row').count()).toBe(3);
    expect(await page.getByRole('cell', { name: 'Malformed JSON' }).count()).toBe(1);
    await screenshot(page, 'flow-data');
  }, 15_000);

  it('validates hyperparameters inline', async () => {
    const { page } = studio.browser;
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

  it('trains with pause and resume, drawing the charts, and ends on a results card', async () => {
    const { page } = studio.browser;
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor();
    // Under a fresh-clone CI run's load the badge once took longer than the poll's default 1 s to appear.
    await expect.poll(() => page.locator('.badge.phase-running').count(), { timeout: 15_000 }).toBe(1);
    // Said at once, before the step ends (a 40 ms step here: a recorder catches the note however short it lives).
    await page.evaluate(() => {
      const seen: string[] = ((globalThis as unknown as { __seen: string[] }).__seen = []);
      new MutationObserver(() => seen.push(document.querySelector('main')!.textContent ?? '')).observe(document.querySelector('main')!, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.phase-paused').first().waitFor();
    const seen = await page.evaluate(() => (globalThis as unknown as { __seen: string[] }).__seen);
    expect(seen.some((t) => t.includes('Pausing after the current step') && t.includes('Pausing…'))).toBe(true);
    // Paused: Resume is the primary button, Start training is not, and Stop can end the run.
    expect(await page.getByRole('button', { name: 'Resume' }).getAttribute('class')).toMatch(/\bprimary\b/);
    expect(await page.getByRole('button', { name: 'Start training' }).getAttribute('class')).not.toMatch(/\bprimary\b/);
    expect(await page.getByRole('button', { name: 'Stop' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('.badge.phase-finished').first().waitFor({ timeout: 15_000 });
    expect(await page.getByRole('progressbar', { name: 'Training progress' }).getAttribute('aria-valuenow')).toBe('30');
    // Eval points on the same chart (Quick try evaluates every 10 steps, and once more at the end).
    await expect.poll(() => page.locator('#chart-loss-desc').textContent()).toMatch(/30 points up to step 30, .* 3 eval points, latest [\d.]+ at step 30\./);
    // Smoothing redraws the line; at 0 only the raw line is left.
    const loss = page.locator('canvas[aria-labelledby="chart-loss-title"]');
    const smoothed = await loss.evaluate((c: HTMLCanvasElement) => c.toDataURL());
    await page.getByRole('slider', { name: 'Smoothing' }).fill('0');
    await expect.poll(() => loss.evaluate((c: HTMLCanvasElement) => c.toDataURL())).not.toBe(smoothed);
    await page.getByRole('slider', { name: 'Smoothing' }).fill('0.6');
    // The results card shows the engine's own numbers.
    const card = page.getByRole('region', { name: /^Results of quick-try/ });
    await card.waitFor();
    const scores = await page.evaluate(async () => {
      const { engine } = (globalThis as unknown as { __studio: { engine: { listRuns(): Promise<{ evalScores?: Record<string, number> }[]> } } }).__studio;
      return (await engine.listRuns())[0].evalScores!;
    });
    for (const id of ['chrf2', 'chrfpp', 'bleu']) {
      expect(await card.getByTestId(`${id}-base`).textContent()).toBe(scores[`gen/${id}_base`].toFixed(2));
      expect(await card.getByTestId(`${id}-adapter`).textContent()).toBe(scores[`gen/${id}_adapter`].toFixed(2));
    }
    expect(await card.getByTestId('eval-accuracy').textContent()).toBe(`${Math.round(scores['eval_rewards/accuracies'] * 100)}%`);
    expect(Number(await card.getByTestId('eval-loss').textContent())).toBeCloseTo(scores.eval_loss, 3);
    expect(await card.getByTestId('eval-split').textContent()).toBe('Eval over the one held-out pair the Data screen shows.');
    expect(await card.getByRole('row', { name: /Danke schön/ }).count()).toBe(1);
    expect(await card.getByRole('button', { name: 'Download adapter' }).isEnabled()).toBe(true);
    expect(await card.getByRole('button', { name: 'Compare' }).isEnabled()).toBe(true);
    await page.locator('canvas[aria-labelledby="chart-loss-title"]').hover({ position: { x: 200, y: 80 } });
    await screenshot(page, 'flow-run');
  }, 30_000);

  it('lists the run and downloads its adapter as one zip of a PEFT folder', async () => {
    const { page } = studio.browser;
    await nav(/^Runs/).click();
    await page.getByRole('row', { name: /quick-try/ }).waitFor();
    // The demo model is not on the Hub: the base model for adapter_config.json is asked for.
    await page.getByRole('textbox', { name: 'Base model of quick-try for adapter_config.json' }).fill('my-org/tiny-base');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download adapter of quick-try' }).click()]);
    expect(download.suggestedFilename()).toBe('quick-try-adapter.zip');
    const entries = readZip(new Uint8Array(fs.readFileSync(await download.path())));
    expect([...entries.keys()].sort()).toEqual(['quick-try-adapter/README.md', 'quick-try-adapter/adapter_config.json', 'quick-try-adapter/adapter_model.safetensors']);
    const config = JSON.parse(new TextDecoder().decode(entries.get('quick-try-adapter/adapter_config.json')));
    expect(config.base_model_name_or_path).toBe('my-org/tiny-base');
    // The same numbers as the results card, as columns.
    const row = page.getByRole('row', { name: /quick-try/ });
    expect(await row.getByTestId('runs-chrf2').textContent()).toBe('31.25 → 38.50');
    expect(await row.getByTestId('runs-bleu').textContent()).toBe('8.50 → 12.75');
    expect(new TextDecoder().decode(entries.get('quick-try-adapter/README.md'))).toContain('from peft import AutoPeftModelForCausalLM\nmodel = AutoPeftModelForCausalLM.from_pretrained("quick-try-adapter")\n');
    await screenshot(page, 'flow-runs');
    // The TRL recipe's note names the command in quotes, not in literal backticks.
    await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export quick-try as a TRL recipe' }).click()]);
    const note = await row.getByText(/^Saved .*accelerate launch/).textContent();
    expect(note).toContain('“accelerate launch train_cpo.py”');
    expect(note).not.toContain('`');
  }, 20_000);

  it('names the DPO reference, evaluates periodically by default, and gives log-probs a unit', async () => {
    const { page } = studio.browser;
    await nav(/^Training/).click();
    await page.getByRole('radio', { name: /Quick try/ }).click();
    const losses = await page.getByRole('combobox', { name: 'Loss', exact: true }).locator('option').allTextContents();
    expect(losses.find((l) => l.startsWith('dpo'))).toBe('dpo (reference: the base model, adapter off)');
    expect(losses.join(' ')).not.toMatch(/ref-free/);
    expect(Number(await page.getByRole('textbox', { name: 'Evaluate every (steps)', exact: true }).inputValue())).toBeGreaterThan(0);
    await nav(/^Run\b/).click();
    for (const which of ['chosen', 'rejected']) {
      expect(await page.locator('.chart', { hasText: `Log-prob, ${which}` }).first().textContent()).toMatch(/nats, summed over the answer/);
    }
  }, 15_000);

  it('refuses a second run while another tab holds the run lock', async () => {
    const { page, context } = studio.browser;
    const other = await context.newPage();
    await other.goto(`${studio.server.url}?stepMs=40`);
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

  it('names a second run apart, and lists a paused run stopped from the Run screen as Stopped', async () => {
    const { page } = studio.browser;
    // The closed tab's lock goes with it, but not at once.
    await expect.poll(() => page.evaluate(async () => (await navigator.locks.query()).held?.length ?? 0)).toBe(0);
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(() => page.locator('#progress-h').textContent()).toMatch(/^quick-try-2/);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.phase-paused').first().waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.badge.phase-stopped').first().waitFor({ timeout: 2_000 });
    await nav(/^Runs/).click();
    const row = page.getByRole('row', { name: /quick-try-2/ });
    expect(await row.locator('.badge').textContent()).toBe('Stopped');
    expect(await page.getByRole('row', { name: /quick-try\b(?!-)/ }).locator('.badge').textContent()).toBe('Finished');
  }, 20_000);

  it('asks for a column mapping when the layout is unknown', async () => {
    const { page } = studio.browser;
    await nav(/^Data/).click();
    const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ src: `Satz ${i}.`, good: `Sentence ${i}.`, bad: `Sentences ${i}.` })).join('\n');
    await dropFile(page, 'section[aria-label="Dataset"]', 'odd.jsonl', rows);
    await page.getByRole('heading', { name: 'Column mapping' }).waitFor();
    // good / bad and src are guessed; the user confirms.
    await expect.poll(() => page.getByRole('combobox', { name: 'Chosen column' }).inputValue()).toBe('good');
    expect(await page.getByRole('combobox', { name: 'Rejected column' }).inputValue()).toBe('bad');
    expect(await page.getByRole('combobox', { name: 'Prompt column holds' }).inputValue()).toBe('source');
    expect(await page.getByRole('combobox', { name: 'Source column' }).inputValue()).toBe('src');
    await page.getByRole('textbox', { name: 'Language pair' }).fill('de-en');
    await screenshot(page, 'flow-mapping');
    await page.getByRole('button', { name: 'Read with this mapping' }).click();
    await page.getByRole('heading', { name: 'Validation report' }).waitFor();
    expect(await page.getByTestId('data-format').textContent()).toMatch(/mapping/i);
  }, 15_000);

  it('translates one sentence with the base model and with the adapter', async () => {
    const { page } = studio.browser;
    await page.goto(`${studio.server.url}?compare=1`);
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

describe('layout (synthetic engine)', () => {
  const studio = servedStudio({ fake: true });

  it('fits 390 × 844 and 1280 × 800 on every screen without horizontal scroll, long tokens included', async () => {
    const { page } = studio.browser;
    await page.goto(`${studio.server.url}?stepMs=5`);
    // A finished run with results, and a compare result made of one long unbroken token.
    await page.evaluate(async () => {
      type S = { getState(): Record<string, (...a: unknown[]) => Promise<void>> & { setField(k: string, v: string): void; setCompare(p: object): void; runs: { id: string }[] } };
      const { store } = (globalThis as unknown as { __studio: { store: S } }).__studio;
      const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify({ prompt: `Translate this from German to English:\nGerman: Satz ${i} ${'Donaudampfschifffahrtsgesellschaftskapitän'.repeat(i === 0 ? 4 : 1)}\nEnglish:`, chosen: ` Sentence ${i}.`, rejected: ` Sentences ${i}.` }));
      await store.getState().loadModel();
      await store.getState().setDataFile(new File([rows.join('\n')], 'long.jsonl'));
      store.getState().setField('maxSteps', '12');
      await store.getState().startTraining();
      store.getState().setCompare({ compareSource: 'x'.repeat(400), compareRunId: store.getState().runs[0].id });
      await store.getState().translate();
    });
    for (const [w, h] of [[390, 844], [1280, 800]] as const) {
      await page.setViewportSize({ width: w, height: h });
      for (const screen of ['start', 'model', 'data', 'training', 'run', 'runs', 'compare']) {
        await page.evaluate((s) => (location.hash = `#/${s}`), screen);
        await page.locator('main h1').first().waitFor();
        // The Runs row's sample translations, opened: they wrap within the visible part of the table.
        const samples = page.locator('.samples-row details');
        if (screen === 'runs' && !(await samples.first().getAttribute('open'))) await samples.first().locator('summary').click();
        // A run's actions sit in one line: the row is no taller than its name and status need, with no blank
        // band under them (the wrapped actions made it ~150 px tall, off to the right of the scrolling table).
        if (screen === 'runs') {
          const [actions, name] = await page.evaluate(() => ['.run-actions', 'tbody th .run-sub'].map((q) => document.querySelector(q)!.getBoundingClientRect()));
          expect(actions.bottom, `the actions' bottom against the run's name at ${w} px`).toBeLessThanOrEqual(name.bottom + 24);
        }
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        // The step bar is as tall as its buttons (the screen below takes the spare height), even where the
        // screen is shorter than the window (a 2,000 px tall one here).
        if (w === 390) {
          await page.setViewportSize({ width: w, height: 2000 });
          const [bar, list] = await page.evaluate(() => ['nav.steps', 'nav.steps ol'].map((q) => document.querySelector(q)!.getBoundingClientRect().height));
          await page.setViewportSize({ width: w, height: h });
          expect(bar - list, `blank under the step bar on ${screen}`).toBeLessThanOrEqual(24);
        }
        // On failure, name what sticks out (scrolling containers hold their own overflow).
        if (width > w) console.log(screen, w, await page.evaluate((w) => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 1 && !e.parentElement?.closest('.table-wrap, .steps ol')).slice(0, 8).map((e) => `${e.tagName}.${e.className}`), w));
        await screenshot(page, `layout-${w}-${screen}`);
        expect(width, `${screen} at ${w} px`).toBeLessThanOrEqual(w);
      }
    }
  }, 60_000);
});

describe('reload mid-run (synthetic engine, runs kept in localStorage as IndexedDB keeps them)', () => {
  const studio = servedStudio({ fake: true });
  type S = { getState(): Record<string, (...a: unknown[]) => Promise<void>> & { setField(k: string, v: string): void; run: { step: number; phase: string } } };

  // The model and the dataset, as a user loads them again after a reload (the same file: the same fingerprint).
  const loadBoth = (page: Browser['page']) =>
    page.evaluate(async (rows) => {
      const { store } = (globalThis as unknown as { __studio: { store: S } }).__studio;
      await store.getState().loadModel();
      await store.getState().setDataFile(new File([rows], 'prefs.jsonl'));
    }, sampleJsonl());

  it('lists a run reloaded while running (not paused) as interrupted; Start leads to resuming it, and the resume names its checkpoint phase', async () => {
    const { page } = studio.browser;
    await page.goto(`${studio.server.url}?persist&stepMs=300&resumeMs=1500`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await loadBoth(page);
    await page.evaluate(() => {
      const { store } = (globalThis as unknown as { __studio: { store: S } }).__studio;
      store.getState().setField('maxSteps', '40');
      void store.getState().startTraining();
    });
    const step = () => page.evaluate(() => (globalThis as unknown as { __studio: { store: S } }).__studio.store.getState().run.step);
    await expect.poll(step, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => (globalThis as unknown as { __studio: { store: S } }).__studio.store.getState().run.phase)).toBe('running');
    await page.reload();
    await page.evaluate(() => (location.hash = '#/start'));
    const note = page.getByTestId('unfinished-runs');
    await note.waitFor({ timeout: 10_000 });
    expect(await note.textContent()).toMatch(/^A run was interrupted: [\w-]+ \(step \d+ of 40\)\. The page closed or reloaded while it trained; it continues from its last checkpoint\./);
    await screenshot(page, 'flow-start-interrupted');
    await note.getByRole('button', { name: 'Resume from Runs' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    const row = page.locator('tbody tr').filter({ has: page.locator('.badge') }).first();
    expect(await row.locator('.badge').textContent()).toBe('Interrupted');
    await loadBoth(page);
    await row.getByRole('button', { name: /^Resume / }).click();
    // The checkpoint's load is a named phase, not a silent wait (the fake takes resumeMs over it).
    await page.getByText(RESUMING_MESSAGE).waitFor({ timeout: 5_000 });
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { __studio: { store: S } }).__studio.store.getState().run.phase), { timeout: 10_000 }).toBe('running');
  }, 60_000);
});
