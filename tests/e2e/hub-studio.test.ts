// The studio's Hub dataset input and the Runs screen's GGUF and web downloads, with the real engine (production
// build, its worker on SwiftShader WebGPU) against tests/helpers/hub-server.ts on another 127.0.0.1 port, which
// the page is pointed at through localStorage['cpo-studio:settings'] (settings.hubUrl). A gated TRL dataset is
// listed (refused without the token, then listed with it), a config and split chosen, streamed into the Cache
// API with progress and read in the worker; reading it again downloads nothing. The preference builder takes
// parallel text by Hub id through the same component. A two-step run on the Hub data is downloaded as GGUF (read
// back with the project's GGUF reader) and as ONNX for the web (transformers.js' layout, after its check ran).
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGguf } from '../../src/io/gguf.ts';
import { memorySource } from '../../src/io/source.ts';
import { ggufLoraBaseName } from '../../src/io/gguf-lora.ts';
import { WEB_MODEL_FILES } from '../../src/onnx/web.ts';
import { writeParquet } from '../data/parquet-writer.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';
import { readZip } from '../ui/zip-reader.ts';
import { ROOT, openStudio, screenshot, type E2eStudio, type Server } from './helpers.ts';

const DOWNLOADS = path.join(ROOT, '.artifacts/downloads-hub');
const TOKEN = 'hf_e2e_token';
const FILE_BUDGET_MS = 280_000;
const str = (name: string) => ({ name, type: 'string' as const });
const TRL = Array.from({ length: 24 }, (_, i) => ({
  prompt: `Translate this from German to English:\nGerman: Satz ${i} ist kurz.\nEnglish:`,
  chosen: ` Sentence ${i} is short.`,
  rejected: ` Sentence ${i} are short.`,
}));
const PARALLEL = Array.from({ length: 6 }, (_, i) => ({ src: `Guten Tag, Nummer ${i}.`, ref: `Good day, number ${i}.`, lp: 'de-en' }));

describe('studio: Hub datasets by id and the GGUF / ONNX downloads (real engine)', () => {
  let hub: FakeHub;
  let server: Server;
  let page: Page;
  let errors: string[];
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (what: string) => (timings[what] = Math.round((Date.now() - t0) / 100) / 10);
  const nav = (name: RegExp) => page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name });
  const group = (name: string) => page.getByRole('group', { name });
  let studio: E2eStudio | undefined;

  beforeAll(async () => {
    const cols = ['prompt', 'chosen', 'rejected'].map(str);
    hub = await startFakeHub({
      'me/prefs': {
        type: 'dataset',
        token: TOKEN,
        revisions: {
          'refs/convert/parquet': {
            'default/train/0000.parquet': writeParquet(cols, TRL.slice(0, 16), { codec: 'snappy' }),
            'default/train/0001.parquet': writeParquet(cols, TRL.slice(16), { codec: 'gzip' }),
            'default/test/0000.parquet': writeParquet(cols, TRL.slice(0, 3)),
            'other/train/0000.parquet': writeParquet(cols, TRL.slice(0, 2)),
          },
        },
      },
      'me/parallel': { type: 'dataset', revisions: { 'refs/convert/parquet': { 'de-en/train/0000.parquet': writeParquet(['src', 'ref', 'lp'].map(str), PARALLEL) } } },
    });
    ({ server, page, errors } = studio = await openStudio(FILE_BUDGET_MS));
    mark('built and served');
    fs.rmSync(DOWNLOADS, { recursive: true, force: true });
    fs.mkdirSync(DOWNLOADS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await studio?.close();
    await hub?.stop();
    console.log(`hub-studio timings (s since start): ${JSON.stringify(timings)}`);
  }, 20_000);

  it('points the studio at the local Hub through its settings and loads the tiny model as f32', async () => {
    await page.goto(server.url);
    await page.evaluate((url) => localStorage.setItem('cpo-studio:settings', JSON.stringify({ hubUrl: url })), hub.url);
    await page.reload();
    await nav(/^Model/).click();
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption({ label: 'Tiny demo model' });
    await page.getByRole('combobox', { name: 'Quantization' }).selectOption('none');
    await page.getByRole('button', { name: /^Load (model|again)$/ }).click();
    await page.getByRole('heading', { name: 'Loaded: Tiny demo model' }).waitFor({ timeout: 60_000 });
    mark('model loaded');
  }, 90_000);

  it('lists a gated dataset with the session token, chooses config and split, and reads it in the worker with progress; again from the cache', async () => {
    await nav(/^Data/).click();
    const g = group('Or a dataset from the Hugging Face Hub');
    await g.getByRole('textbox', { name: 'Dataset id' }).fill('me/prefs');
    await g.getByRole('button', { name: 'List configs and splits' }).click();
    await g.getByRole('alert').filter({ hasText: /access denied \(HTTP 401/ }).waitFor({ timeout: 15_000 });
    await g.getByLabel('Access token (optional)').fill(TOKEN);
    await g.getByRole('button', { name: 'List configs and splits' }).click();
    await g.getByTestId('hub-listing').waitFor({ timeout: 15_000 });
    expect(await g.getByTestId('hub-listing').textContent()).toContain(`commit ${hub.commitOf('me/prefs', 'refs/convert/parquet', 'dataset').slice(0, 8)}: 3 splits in 2 configs`);
    // Preselected as the CLI chooses for hf://datasets/me/prefs: the default config, train.
    expect(await g.getByRole('combobox', { name: 'Config' }).inputValue()).toBe('default');
    expect(await g.getByRole('combobox', { name: 'Split' }).inputValue()).toBe('train');
    expect(await g.getByRole('combobox', { name: 'Split' }).locator('option').allTextContents()).toEqual([expect.stringMatching(/^train · 2 shards, /), expect.stringMatching(/^test · 1 shard, /)]);
    // The token travels with the requests to the Hub (and to nothing else).
    const listed = hub.hits('/api/datasets/me/prefs/revision/');
    expect(listed.at(-1)!.auth).toBe(`Bearer ${TOKEN}`);

    const seen = new Set<string>();
    const poll = setInterval(() => void page.locator('.progress .progress-head span').first().textContent().then((t) => t && seen.add(t), () => {}), 50);
    await g.getByRole('button', { name: 'Load from the Hub' }).click();
    await page.getByRole('heading', { name: 'Validation report' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('.progress').count(), { timeout: 30_000 }).toBe(0);
    clearInterval(poll);
    expect(await page.getByTestId('data-hub').textContent()).toMatch(/^hf:\/\/datasets\/me\/prefs\/default\/train · commit [0-9a-f]{8}$/);
    expect(await page.getByTestId('data-format').textContent()).toMatch(/TRL/);
    expect(await page.locator('.stats div', { hasText: 'Usable' }).locator('dd').textContent()).toBe('24');
    const shardGets = () => hub.hits('/cdn/').length;
    expect(shardGets()).toBe(2);
    console.log(`progress labels seen: ${[...seen].join(' | ')}`);
    await screenshot(page, 'hub-data');

    // Read again (another split share): both shards come from the Cache API, nothing is downloaded.
    await page.getByRole('textbox', { name: 'Eval share (%)' }).fill('10');
    await page.getByRole('button', { name: 'Apply split' }).click();
    await expect.poll(() => page.locator('.stats div', { hasText: 'Eval pairs' }).locator('dd').textContent(), { timeout: 30_000 }).toBe('2');
    expect(shardGets()).toBe(2);
    mark('hub dataset read');
  }, 120_000);

  it('reads parallel text by Hub id in the preference builder, through the same component', async () => {
    const g = group('Or parallel data from the Hugging Face Hub');
    await g.getByRole('textbox', { name: 'Dataset id' }).fill('hf://datasets/me/parallel');
    await g.getByRole('button', { name: 'List configs and splits' }).click();
    await g.getByRole('button', { name: 'Load from the Hub' }).click();
    const facts = page.getByTestId('prefs-facts');
    await facts.waitFor({ timeout: 30_000 });
    expect(await facts.textContent()).toMatch(/Sources6.*src → ref/);
    expect(await page.getByTestId('prefs-hub').textContent()).toBe('hf://datasets/me/parallel/de-en/train');
    mark('parallel read');
  }, 60_000);

  it('trains two steps on the Hub data and downloads the run as GGUF and as a checked ONNX web export', async () => {
    await nav(/^Training/).click();
    await page.getByRole('radio', { name: /Quick try/ }).click();
    const field = (label: string) => page.getByRole('textbox', { name: label, exact: true });
    await field('Max steps').fill('2');
    await field('Max length (tokens)').fill('64');
    await field('Max prompt length (tokens)').fill('48');
    await expect.poll(() => page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(false);
    await page.getByRole('button', { name: 'Start training' }).click();
    // 'Finished' once the end-of-run generation check is done too.
    await page.locator('.badge.phase-finished').first().waitFor({ timeout: 210_000 });
    mark('run finished');

    await nav(/^Runs/).click();
    const row = page.getByRole('row', { name: /quick-try/ });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('hf://datasets/me/prefs/default/train');

    const [gguf] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByRole('button', { name: 'Download quick-try as GGUF' }).click()]);
    expect(gguf.suggestedFilename()).toBe('quick-try-adapter.gguf');
    const ggufPath = path.join(DOWNLOADS, gguf.suggestedFilename());
    await gguf.saveAs(ggufPath);
    const bytes = new Uint8Array(fs.readFileSync(ggufPath));
    const g = await openGguf(memorySource(bytes, 'quick-try-adapter.gguf'));
    expect([g.metadata.get('general.type'), g.metadata.get('adapter.type'), g.metadata.get('general.architecture')]).toEqual(['adapter', 'lora', 'llama']);
    // Quick try adapts every linear projection of the tiny model's 2 layers: an A and a B each, as llama.cpp names them.
    const want = [0, 1].flatMap((l) => (['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const).flatMap((m) => ['lora_a', 'lora_b'].map((s) => `${ggufLoraBaseName(l, m)}.${s}`)));
    expect([...g.tensors.keys()].sort()).toEqual(want.sort());
    mark('gguf downloaded');

    const downloaded = page.waitForEvent('download', { timeout: 150_000 });
    downloaded.catch(() => {}); // awaited below, once the check's outcome is known
    await page.getByRole('button', { name: 'Download quick-try as ONNX for the web' }).click();
    // The check's outcome first: a refusal's message then shows in the failure, not a missing download.
    await page.getByTestId('web-check').waitFor({ timeout: 150_000 });
    const check = await page.getByTestId('web-check').textContent();
    expect(errors).toEqual([]);
    expect(check).toMatch(/^onnxruntime-web check passed \(fp32 file\): max \|logit difference\| \d\.\d\de[-+]\d+ \(largest logit \d+\.\d\d\), the same most likely token in 6 of 6 steps\.$/);
    const web = await downloaded;
    const diff = Number(/difference\| (\S+)/.exec(check!)![1]);
    expect(diff).toBeLessThan(1e-3);
    expect(web.suggestedFilename()).toBe('quick-try-web.zip');
    const zipPath = path.join(DOWNLOADS, web.suggestedFilename());
    await web.saveAs(zipPath);
    const zip = readZip(new Uint8Array(fs.readFileSync(zipPath)));
    const files = ['config.json', 'generation_config.json', WEB_MODEL_FILES.fp32, WEB_MODEL_FILES.q8, 'tokenizer.json', 'tokenizer_config.json'];
    expect([...zip.keys()].sort()).toEqual(files.map((f) => `quick-try-web/${f}`).sort());
    const config = JSON.parse(new TextDecoder().decode(zip.get('quick-try-web/config.json')));
    expect(config).toMatchObject({ architectures: ['LlamaForCausalLM'], use_cache: true });
    await screenshot(page, 'hub-runs-downloads');
    mark('web downloaded');
    console.log(`Chromium: GGUF ${bytes.byteLength} B; web zip ${fs.statSync(zipPath).size} B (model.onnx ${zip.get(`quick-try-web/${WEB_MODEL_FILES.fp32}`)!.byteLength} B, model_quantized.onnx ${zip.get(`quick-try-web/${WEB_MODEL_FILES.q8}`)!.byteLength} B); ${check}`);
    expect(errors).toEqual([]);
  }, 240_000);
});
