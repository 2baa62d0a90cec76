// End-to-end with the real engine: the production build, its engine worker on Chromium's SwiftShader
// WebGPU, IndexedDB checkpoints. Tiny demo model, the demo dataset, a 6-step Quick try run that is paused,
// survives a page reload, resumes and finishes, and an adapter that PEFT would read; then a second run paused
// and stopped, which a reload lists as Stopped, beside the first run's stored sample translations.
// Every wait has a timeout: a runaway shader is never killed by anything but closing the browser, which
// afterAll does.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../ui/zip-reader.ts';
import { ROOT, dropFile, openStudio, screenshot, type Browser, type E2eStudio, type Server } from './helpers.ts';

const DEMO_DATA = path.join(ROOT, 'public/demo/wmt22-preference.jsonl');
const TINY_CONFIG = JSON.parse(fs.readFileSync(path.join(ROOT, 'public/models/tiny/config.json'), 'utf8')) as Record<string, number>;
const DOWNLOADS = path.join(ROOT, '.artifacts/downloads');
const RUN = { maxSteps: 6, checkpointEvery: 2, maxLength: 64, maxPromptLength: 32 };
// The whole file's budget (about a minute here when the machine is quiet): past it the browser is closed,
// which ends whatever the GPU worker is doing, and the remaining tests fail fast.
const FILE_BUDGET_MS = 330_000;

/** A preference file with one of each problem, at known lines. */
function badJsonl(): { text: string; lines: { malformed: number; missing: number; identical: number } } {
  const rows: string[] = [];
  for (let i = 0; i < 8; i++) rows.push(JSON.stringify({ prompt: `Translate to English: Satz ${i}.`, chosen: ` Sentence ${i}.`, rejected: ` Sentences ${i}.` }));
  rows.splice(2, 0, '{"prompt": "Translate: kaputt", "chosen": '); // line 3
  rows.splice(5, 0, JSON.stringify({ prompt: 'Translate: ohne', chosen: ' without' })); // line 6
  rows.splice(7, 0, JSON.stringify({ prompt: 'Translate: gleich', chosen: ' same', rejected: ' same' })); // line 8
  return { text: rows.join('\n') + '\n', lines: { malformed: 3, missing: 6, identical: 8 } };
}

function parseSafetensors(bytes: Buffer): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; dataStart: number } {
  const n = Number(bytes.readBigUInt64LE(0));
  expect(n).toBeGreaterThan(2);
  expect(8 + n).toBeLessThanOrEqual(bytes.length);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  delete header.__metadata__;
  return { header, dataStart: 8 + n };
}

describe('real engine (production build, SwiftShader WebGPU)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (what: string) => {
    timings[what] = Math.round((Date.now() - t0) / 100) / 10;
  };
  const nav = (name: RegExp) => page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name });
  const progressNow = async () => Number((await page.getByRole('progressbar', { name: 'Training progress' }).getAttribute('aria-valuenow')) ?? 0);
  const lossChart = () => page.locator('canvas[aria-labelledby="chart-loss-title"]');

  async function loadDemoModel() {
    await nav(/^Model/).click();
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption({ label: 'Tiny demo model' });
    await page.getByRole('button', { name: /^Load (model|again)$/ }).click();
    await page.getByRole('heading', { name: 'Loaded: Tiny demo model' }).waitFor({ timeout: 60_000 });
    await nav(/^Model/).getByText('Tiny demo model').waitFor();
  }

  async function waitForReport(name: string) {
    await page.getByText(new RegExp(`^${name.replace('.', '\\.')} ·`)).waitFor();
    await page.getByRole('heading', { name: 'Validation report' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.progress').count(), { timeout: 30_000 }).toBe(0);
  }

  let studio: E2eStudio | undefined;

  beforeAll(async () => {
    ({ server, browser, page, errors } = studio = await openStudio(FILE_BUDGET_MS, {
      onOverBudget: () => console.error(`studio-real: over its ${FILE_BUDGET_MS / 1000} s budget; closing the browser (timings so far: ${JSON.stringify(timings)})`),
    }));
    mark('built and served');
    fs.rmSync(DOWNLOADS, { recursive: true, force: true });
    fs.mkdirSync(DOWNLOADS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await studio?.close();
    console.log(`studio-real timings (s since start): ${JSON.stringify(timings)}`);
    fs.mkdirSync(path.join(ROOT, '.artifacts'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, '.artifacts/e2e-real-timings.json'), JSON.stringify(timings, null, 2));
  }, 20_000);

  it('finds the SwiftShader adapter in the engine worker and loads the tiny demo model', async () => {
    await page.goto(server.url);
    const facts = page.getByTestId('gpu-facts');
    await facts.waitFor({ timeout: 30_000 });
    expect(await facts.textContent()).toMatch(/swiftshader/i);
    // The answer came from the worker, not the page's fallback probe.
    expect(await page.getByText(/Probed on the page/).count()).toBe(0);
    await screenshot(page, 'real-start');
    await loadDemoModel();
    const facts2 = await page.getByRole('region', { name: /Loaded: Tiny demo model/ }).textContent();
    expect(facts2).toMatch(/LlamaForCausalLM/);
    expect(facts2).toMatch(new RegExp(`${TINY_CONFIG.num_hidden_layers} · ${TINY_CONFIG.hidden_size} · ${TINY_CONFIG.num_attention_heads}`));
    await screenshot(page, 'real-model');
    mark('model loaded');
  }, 90_000);

  it('shows what was wrong with a bad dataset, by line', async () => {
    const bad = badJsonl();
    await nav(/^Data/).click();
    await dropFile(page, 'section[aria-label="Dataset"]', 'bad-prefs.jsonl', bad.text);
    await waitForReport('bad-prefs.jsonl');
    const row = (reason: string) => page.getByRole('row', { name: new RegExp(`^${reason}`) });
    await row('Malformed JSON').waitFor();
    expect(await row('Malformed JSON').getByRole('cell').last().textContent()).toBe(String(bad.lines.malformed));
    expect(await row('Missing field').getByRole('cell').last().textContent()).toBe(String(bad.lines.missing));
    expect(await row('Chosen equals rejected').getByRole('cell').last().textContent()).toBe(String(bad.lines.identical));
    // The eight good rows survive.
    expect(await page.locator('.stats div', { hasText: 'Usable' }).locator('dd').textContent()).toBe('8');
    // The parse error names the column within its row: no "line 1" beside the file's line 3, no doubled escapes.
    await page.getByText(/^All listed issues/).click();
    const parse = await page.locator('.issues li', { hasText: `line ${bad.lines.malformed}:` }).textContent();
    expect(parse).toBe('line 3: Unexpected end of the row: {"prompt": "Translate: kaputt", "chosen": ');
    expect(parse).not.toMatch(/line 1 column|\\"/);
    await screenshot(page, 'real-data-bad');
    mark('bad dataset reported');
  }, 60_000);

  it('reads the demo dataset from its button', async () => {
    await page.getByRole('button', { name: 'Use the demo dataset' }).click();
    await waitForReport('wmt22-preference.jsonl');
    expect(await page.getByTestId('data-format').textContent()).toMatch(/Translation pairs/);
    expect(await page.locator('.preview-row').count()).toBeGreaterThan(0);
    expect(Number((await page.locator('.stats div', { hasText: 'Train pairs' }).locator('dd').textContent())?.replace(/,/g, ''))).toBeGreaterThan(10);
    await screenshot(page, 'real-data');
    mark('demo dataset read');
  }, 60_000);

  it('trains Quick try: the step counter and the charts move, the lock is held, leaving warns; then pauses', async () => {
    await nav(/^Training/).click();
    await page.getByRole('radio', { name: /Quick try/ }).click();
    const field = (label: string) => page.getByRole('textbox', { name: label, exact: true });
    await field('Max steps').fill(String(RUN.maxSteps));
    await field('Checkpoint every (steps)').fill(String(RUN.checkpointEvery));
    await field('Max length (tokens)').fill(String(RUN.maxLength));
    await field('Max prompt length (tokens)').fill(String(RUN.maxPromptLength));
    await expect.poll(() => page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(false);
    // The file was cut to the preset's limits when it was read; the run reads it again with its own.
    expect(await page.getByTestId('data-reread').textContent()).toMatch(/read for 128 tokens \(prompt 96\)/);
    await screenshot(page, 'real-training');

    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor();
    const before = await lossChart().evaluate((c: HTMLCanvasElement) => c.toDataURL());
    await page.locator('.badge.phase-running').first().waitFor({ timeout: 30_000 });
    mark('run started');
    // Before the first step (13 s here) the page says what it waits for.
    if ((await progressNow()) === 0) expect(await page.locator('#progress-h ~ .note, .card .note').allTextContents()).toContainEqual(expect.stringMatching(/GPU shaders/));

    // Leaving now would lose the work since the last checkpoint: the page asks first.
    expect(await page.evaluate(() => !dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(true);
    // The run holds the single-run lock: another tab of this origin cannot take it.
    const other = await browser.context.newPage();
    await other.goto(`${server.url}models/tiny/config.json`);
    expect(await other.evaluate(() => navigator.locks.request('cpo-studio-run', { ifAvailable: true }, (l) => l !== null))).toBe(false);
    await other.close();
    await page.bringToFront();

    await expect.poll(progressNow, { timeout: 90_000, interval: 500 }).toBeGreaterThanOrEqual(1);
    mark('first step');
    await expect.poll(progressNow, { timeout: 60_000, interval: 250 }).toBeGreaterThanOrEqual(RUN.checkpointEvery);
    await page.getByText(/Checkpoint saved at step \d+/).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#chart-loss-desc').textContent()).toMatch(/[1-9]\d* points? up to step/);
    expect(await lossChart().evaluate((c: HTMLCanvasElement) => c.toDataURL())).not.toBe(before);
    await screenshot(page, 'real-run');

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.phase-paused').first().waitFor({ timeout: 60_000 });
    const paused = await progressNow();
    expect(paused).toBeGreaterThanOrEqual(RUN.checkpointEvery);
    expect(paused).toBeLessThan(RUN.maxSteps);
    // Paused: the checkpoint is written, so leaving is fine, and the lock is free again.
    expect(await page.evaluate(() => !dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(false);
    expect(await page.evaluate(() => navigator.locks.query().then((q) => (q.held ?? []).some((l) => l.name === 'cpo-studio-run')))).toBe(false);
    await screenshot(page, 'real-run-paused');
    mark(`paused at step ${paused}`);
  }, 150_000);

  it('after a reload lists the paused run with its checkpoint, and resumes once model and data are loaded again', async () => {
    const pausedStep = await progressNow();
    await page.reload();
    // The hash kept the screen. The Run screen has no run of its own now, and points to the stored one.
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor({ timeout: 30_000 });
    await page.getByText('A paused run is stored in this browser.').waitFor({ timeout: 15_000 });
    // So does the Start screen.
    await nav(/^Start/).click();
    await page.getByTestId('gpu-facts').waitFor({ timeout: 30_000 });
    await page.getByTestId('unfinished-runs').waitFor();
    await page.getByRole('button', { name: 'Resume from Runs' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    const row = page.getByRole('row', { name: /quick-try/ });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.badge').textContent()).toBe('Paused');
    expect(await row.textContent()).toContain(`checkpoint at step ${pausedStep}`);
    expect(await row.textContent()).toContain(`${pausedStep} / ${RUN.maxSteps}`);
    // The page says what is missing; Resume waits for it.
    const resume = page.getByRole('button', { name: 'Resume quick-try' });
    expect(await resume.isDisabled()).toBe(true);
    const hint = page.locator('.resume-hint');
    expect(await hint.textContent()).toMatch(/To resume, load the model and the dataset again\..*Load the model it was trained on, Tiny demo model \(q4_0\), on the Model screen\..*Load its dataset, wmt22-preference\.jsonl, on the Data screen\./);
    expect(await resume.getAttribute('aria-describedby')).toBe(await hint.getAttribute('id'));
    await screenshot(page, 'real-runs-reloaded');
    mark('reloaded');

    // As a user would: the model, then a dataset. The wrong one first: Resume refuses it and the run stays paused.
    await loadDemoModel();
    await nav(/^Data/).click();
    await dropFile(page, 'section[aria-label="Dataset"]', 'bad-prefs.jsonl', badJsonl().text);
    await waitForReport('bad-prefs.jsonl');
    await nav(/^Runs/).click();
    await expect.poll(() => resume.isDisabled(), { timeout: 15_000 }).toBe(false);
    await resume.click();
    await page.getByText(/The loaded dataset \(bad-prefs\.jsonl\) is not the one quick-try was trained on \(wmt22-preference\.jsonl/).waitFor({ timeout: 30_000 });
    expect(await page.locator('.badge.phase-paused').count()).toBe(1);
    await screenshot(page, 'real-run-wrong-data');
    // Now the right file, through the file input this time.
    await nav(/^Data/).click();
    await page.locator('input[type=file][aria-label="Dataset"]').setInputFiles(DEMO_DATA);
    await waitForReport('wmt22-preference.jsonl');
    await nav(/^Runs/).click();
    await expect.poll(() => resume.isDisabled(), { timeout: 15_000 }).toBe(false);
    expect(await page.locator('.resume-hint').count()).toBe(0);
    mark('model and data loaded again');

    await resume.click();
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor();
    // The curves so far came back from the checkpoint's history.
    await expect.poll(() => page.locator('#chart-loss-desc').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`${pausedStep} points? up to step ${pausedStep}`));
    await page.locator('.badge.phase-running').first().waitFor({ timeout: 60_000 });
    mark('resumed');
    // 'Finished' once the end-of-run generation check is done too (the page reads 'finishing' meanwhile).
    await page.locator('.badge.phase-finished, .badge.phase-failed').first().waitFor({ timeout: 180_000 });
    const message = await page.locator('#progress-h ~ .note, .card .note').allTextContents();
    expect(await page.locator('.badge.phase-finished').count(), message.join(' | ')).toBe(1);
    expect(await progressNow()).toBe(RUN.maxSteps);
    await expect.poll(() => page.locator('#chart-loss-desc').textContent()).toMatch(new RegExp(`${RUN.maxSteps} points up to step ${RUN.maxSteps}`));
    // The results card shows what the engine stored for the run.
    const card = page.getByRole('region', { name: /^Results of quick-try/ });
    await card.waitFor({ timeout: 60_000 });
    // The card shows the scores from the eval event; the run's stored record gets them when the end-of-run
    // checkpoint is written, a moment later.
    const stored = () => page.evaluate(async () => {
      const { engine } = (globalThis as unknown as { __studio: { engine: { listRuns(): Promise<{ name: string; evalScores?: Record<string, number> }[]> } } }).__studio;
      return (await engine.listRuns()).find((r) => r.name === 'quick-try')?.evalScores ?? null;
    });
    await expect.poll(async () => (await stored())?.['gen/chrf2_base'] !== undefined, { timeout: 30_000 }).toBe(true);
    const scores = (await stored())!;
    for (const id of ['chrf2', 'chrfpp', 'bleu']) {
      expect(await card.getByTestId(`${id}-base`).textContent()).toBe(scores[`gen/${id}_base`].toFixed(2));
      expect(await card.getByTestId(`${id}-adapter`).textContent()).toBe(scores[`gen/${id}_adapter`].toFixed(2));
    }
    expect(await card.getByTestId('eval-accuracy').textContent()).toBe(`${Math.round(scores['eval_rewards/accuracies'] * 100)}%`);
    expect(await card.getByTestId('eval-split').textContent()).toMatch(/held-out pairs? the Data screen shows/);
    await lossChart().hover({ position: { x: 200, y: 80 } });
    await screenshot(page, 'real-run-finished');
    mark('finished');
  }, 240_000);

  it('downloads a PEFT adapter that matches the tiny model and the run', async () => {
    await nav(/^Runs/).click();
    const row = page.getByRole('row', { name: /quick-try/ });
    await row.locator('.badge.phase-finished').waitFor({ timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.getByRole('button', { name: 'Download adapter of quick-try' }).click()]);
    expect(download.suggestedFilename()).toBe('quick-try-adapter.zip');
    const zipPath = path.join(DOWNLOADS, download.suggestedFilename());
    await download.saveAs(zipPath);
    const entries = readZip(new Uint8Array(fs.readFileSync(zipPath)));
    const files = new Map([...entries].map(([k, v]) => [k.replace(/^quick-try-adapter\//, ''), Buffer.from(v)]));
    expect([...entries.keys()].sort()).toEqual(['quick-try-adapter/README.md', 'quick-try-adapter/adapter_config.json', 'quick-try-adapter/adapter_model.safetensors']);
    expect(files.get('README.md')!.toString('utf8')).toContain('model = AutoPeftModelForCausalLM.from_pretrained("quick-try-adapter")');
    await row.getByText(/^Saved /).waitFor();
    await screenshot(page, 'real-runs-final');

    const cfg = JSON.parse(files.get('adapter_config.json')!.toString('utf8'));
    // The demo model is not on the Hub, and nothing was typed: its name stays, and the README says to set it.
    expect(cfg.base_model_name_or_path).toBe('Tiny demo model');
    const r = 8; // Quick try
    expect(cfg.peft_type).toBe('LORA');
    expect(cfg.r).toBe(r);
    expect(cfg.lora_alpha).toBe(16);
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    expect([...cfg.target_modules].sort()).toEqual([...targets].sort());

    const C = TINY_CONFIG.hidden_size;
    const F = TINY_CONFIG.intermediate_size;
    const D = TINY_CONFIG.head_dim ?? C / TINY_CONFIG.num_attention_heads;
    const io: Record<string, [number, number]> = {
      q_proj: [C, TINY_CONFIG.num_attention_heads * D],
      k_proj: [C, TINY_CONFIG.num_key_value_heads * D],
      v_proj: [C, TINY_CONFIG.num_key_value_heads * D],
      o_proj: [TINY_CONFIG.num_attention_heads * D, C],
      gate_proj: [C, F],
      up_proj: [C, F],
      down_proj: [F, C],
    };
    const bytes = files.get('adapter_model.safetensors')!;
    const { header, dataStart } = parseSafetensors(bytes);
    const expected = new Map<string, number[]>();
    for (let i = 0; i < TINY_CONFIG.num_hidden_layers; i++) {
      for (const proj of targets) {
        const block = proj.endsWith('_proj') && ['gate_proj', 'up_proj', 'down_proj'].includes(proj) ? 'mlp' : 'self_attn';
        const [inF, outF] = io[proj];
        expected.set(`base_model.model.model.layers.${i}.${block}.${proj}.lora_A.weight`, [r, inF]);
        expected.set(`base_model.model.model.layers.${i}.${block}.${proj}.lora_B.weight`, [outF, r]);
      }
    }
    expect(Object.keys(header).sort()).toEqual([...expected.keys()].sort());
    let nonZeroB = 0;
    for (const [name, shape] of expected) {
      const t = header[name];
      expect(t.shape, name).toEqual(shape);
      expect(t.dtype).toBe('F32');
      const [a, b] = t.data_offsets;
      expect(b - a).toBe(shape[0] * shape[1] * 4);
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataStart + a, bytes.byteOffset + dataStart + b));
      expect(data.every(Number.isFinite), name).toBe(true);
      if (name.includes('lora_B') && data.some((v) => v !== 0)) nonZeroB++;
    }
    // B starts at zero; six steps of training moved it.
    expect(nonZeroB).toBeGreaterThan(0);

    // The TRL recipe: its accelerate line quotes the model's name, which has spaces.
    const [recipe] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.getByRole('button', { name: 'Export quick-try as a TRL recipe' }).click()]);
    const recipeFiles = readZip(new Uint8Array(fs.readFileSync(await recipe.path())));
    const readme = Buffer.from(recipeFiles.get('trl-recipe/README.md')!).toString('utf8');
    expect(readme).toContain("accelerate launch train_cpo.py 'Tiny demo model'");
    mark('adapter checked');
    expect(errors).toEqual([]);
  }, 60_000);

  it('stops a paused run for good: after a reload it is listed Stopped, and the finished run keeps its sample translations', async () => {
    await nav(/^Training/).click();
    await page.getByRole('textbox', { name: 'Max steps', exact: true }).fill(String(RUN.maxSteps));
    await expect.poll(() => page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(false);
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor();
    await expect.poll(() => page.locator('#progress-h').textContent(), { timeout: 30_000 }).toMatch(/^quick-try-2/);
    await expect.poll(progressNow, { timeout: 90_000, interval: 250 }).toBeGreaterThanOrEqual(1);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.phase-paused').first().waitFor({ timeout: 60_000 });
    // Stop on a paused run: no loop to stop, so the engine marks its checkpoint stopped.
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.badge.phase-stopped').first().waitFor({ timeout: 15_000 });
    const stoppedAt = await progressNow();
    mark('second run paused and stopped');

    await page.reload();
    await page.getByRole('heading', { name: 'Run', level: 1 }).waitFor({ timeout: 30_000 });
    await nav(/^Runs/).click();
    const stopped = page.getByRole('row', { name: /quick-try-2/ });
    await stopped.waitFor({ timeout: 15_000 });
    expect(await stopped.locator('.badge').textContent()).toBe('Stopped');
    expect(await stopped.textContent()).toContain(`${stoppedAt} / ${RUN.maxSteps}`);
    // Not an unfinished run to resume: the Start screen does not offer it.
    const stored = await page.evaluate(async () => {
      const { engine } = (globalThis as unknown as { __studio: { engine: { listRuns(): Promise<{ name: string; status: string; evalSamples?: { base: string; adapter: string }[] }[]> } } }).__studio;
      return engine.listRuns();
    });
    expect(stored.find((r) => r.name === 'quick-try-2')?.status).toBe('stopped');
    const samples = stored.find((r) => r.name === 'quick-try')?.evalSamples ?? [];
    expect(samples.length).toBeGreaterThan(0);
    // The finished run's translations came back from IndexedDB: in its Runs row, and on its results card.
    const row = page.getByTestId('runs-samples-quick-try');
    await row.getByText(`Sample translations (${samples.length})`).click();
    const cells = async (where: ReturnType<typeof page.locator>) => where.locator('tbody tr').first().locator('td').allTextContents();
    expect((await cells(row)).slice(2)).toEqual([samples[0].base, samples[0].adapter]);
    await screenshot(page, 'real-runs-stopped-reloaded');
    await page.getByRole('button', { name: 'View charts of quick-try', exact: true }).click();
    const card = page.getByRole('region', { name: /^Results of quick-try/ });
    await card.waitFor({ timeout: 15_000 });
    expect((await cells(card.locator('.samples'))).slice(2)).toEqual([samples[0].base, samples[0].adapter]);
    await screenshot(page, 'real-results-reloaded');
    mark('stopped run and samples after reload');
    expect(errors).toEqual([]);
  }, 200_000);
});
