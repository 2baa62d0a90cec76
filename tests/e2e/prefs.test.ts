// "Build from parallel data" in Chromium with the real engine (production build, the engine worker on
// SwiftShader WebGPU): 20 WMT22 de-en lines dropped on the Data screen, a preview of scored candidates from the
// tiny demo model, a build paused and resumed (progress in IndexedDB), the pairs handed to the Data screen without
// a download, and 2 training steps on them.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, dropFile, openStudio, screenshot, type E2eStudio, type Server } from './helpers.ts';

const WMT = path.resolve(ROOT, '../shared/data/wmt22/de-en.jsonl');
const LINES = fs.readFileSync(WMT, 'utf8').split('\n').slice(0, 20).join('\n') + '\n';
// Past this the browser is closed, which ends whatever the GPU worker is doing; the rest fails fast.
const FILE_BUDGET_MS = 420_000;

describe('Build from parallel data (real engine, SwiftShader WebGPU)', () => {
  let server: Server;
  let page: Page;
  let errors: string[];
  let studio: E2eStudio | undefined;
  const nav = (name: RegExp) => page.getByRole('navigation', { name: 'Studio steps' }).getByRole('button', { name });
  const field = (label: string) => page.getByRole('textbox', { name: label, exact: true });
  const built = () => page.getByRole('progressbar', { name: /^(Building|Paused|Built)/ });

  beforeAll(async () => {
    ({ server, page, errors } = studio = await openStudio(FILE_BUDGET_MS));
  }, 120_000);

  afterAll(async () => {
    await studio?.close();
  }, 20_000);

  it('loads the tiny demo model and reads the parallel file', async () => {
    await page.goto(server.url);
    await nav(/^Model/).click();
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption({ label: 'Tiny demo model' });
    await page.getByRole('button', { name: /^Load (model|again)$/ }).click();
    await page.getByRole('heading', { name: 'Loaded: Tiny demo model' }).waitFor({ timeout: 60_000 });
    await nav(/^Data/).click();
    await dropFile(page, 'section[aria-label="Parallel data"]', 'de-en.jsonl', LINES);
    const facts = page.getByTestId('prefs-facts');
    await facts.waitFor({ timeout: 30_000 });
    expect(await facts.textContent()).toMatch(/Sources20.*src → ref \(lp\).*gpt4/);
    expect(await page.getByTestId('prefs-reference-rule').textContent()).toMatch(/scores 100 and is chosen whenever it takes part/);
  }, 120_000);

  it('previews 3 sources with their scored candidates', async () => {
    await field('System columns').fill('gpt4,alma13b_lora');
    await page.getByRole('button', { name: 'Read again' }).click();
    await expect.poll(async () => (await page.getByTestId('prefs-facts').textContent()) ?? '').toMatch(/gpt4, alma13b_lora/);
    await field('Candidates per source').fill('2');
    await field('Top-p').fill('1');
    await field('Max new tokens').fill('8');
    await field('Sources per batch').fill('5');
    await page.getByRole('checkbox', { name: 'The reference takes part' }).uncheck();
    await page.getByRole('button', { name: 'Preview 3 sources' }).click();
    await expect.poll(() => page.getByTestId('prefs-preview').count(), { timeout: 90_000 }).toBe(3);
    const first = page.getByTestId('prefs-preview').first();
    expect(await first.getByRole('row', { name: /system:gpt4/ }).count()).toBeGreaterThan(0);
    expect(await first.getByRole('row', { name: /model:\d/ }).count()).toBeGreaterThan(0);
    expect(await first.locator('tr.chosen').count()).toBe(1);
    await screenshot(page, 'prefs-preview');
  }, 120_000);

  it('builds all with a pause and a resume, and hands the pairs to the Data screen', async () => {
    await page.getByRole('button', { name: 'Build all' }).click();
    // Four batches of 5: a pause after the first lands while the second is in flight, before the last.
    await expect.poll(async () => Number((await built().getAttribute('aria-valuenow')) ?? 0), { timeout: 90_000, interval: 100 }).toBeGreaterThanOrEqual(5);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 60_000 });
    const paused = Number(await built().getAttribute('aria-valuenow'));
    expect(paused).toBeGreaterThanOrEqual(5);
    expect(paused).toBeLessThan(20);
    await page.getByRole('button', { name: 'Resume' }).click();
    const summary = page.getByTestId('prefs-summary');
    await summary.waitFor({ timeout: 90_000 });
    const pairs = Number(/^(\d+) pairs from 20 sources/.exec((await summary.textContent()) ?? '')?.[1]);
    expect(pairs).toBeGreaterThan(0);
    await screenshot(page, 'prefs-built');
    await page.getByRole('button', { name: 'Use as the training dataset' }).click();
    await page.getByText(/^de-en-prefs\.jsonl ·/).waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Validation report' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('data-format').textContent()).toMatch(/TRL/);
    expect(Number(await page.locator('.stats div', { hasText: 'Usable' }).locator('dd').textContent())).toBe(pairs);
  }, 240_000);

  it('trains 2 steps on them', async () => {
    await nav(/^Training/).click();
    await page.getByRole('radio', { name: /Quick try/ }).click();
    await field('Max steps').fill('2');
    await field('Max length (tokens)').fill('64');
    await field('Max prompt length (tokens)').fill('48');
    await expect.poll(() => page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(false);
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('.badge.phase-finished').first().waitFor({ timeout: 180_000 });
    expect(await page.getByRole('progressbar', { name: 'Training progress' }).getAttribute('aria-valuenow')).toBe('2');
    expect(errors).toEqual([]);
  }, 240_000);
});
