// The builder on the tiny demo model (random weights, real Llama-2 tokenizer): the model's candidates through
// src/generate (sampling seeded per batch, beam search's top N), and the command end to end: 20 WMT22 lines to
// triplets, twice to the same bytes, resumed after an interruption, then 2 training steps on them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildPrefsCommand } from '../../src/cli/build-prefs.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { almaPrompt } from '../../src/data/rows/languages.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { beamSearchAll, eosIds, generate, generatedText, newlinePredicate, promptIds, translate } from '../../src/generate/index.ts';
import type { BaseModel } from '../../src/model/model.ts';
import type { TextTokenizer } from '../../src/model/tokenizer.ts';
import { decoderCandidates, DEFAULT_CANDIDATES, type CandidateOptions } from '../../src/prefs/candidates.ts';
import { loadTinyDecoding, TINY, type TinyDecoding } from '../util/tiny.ts';
import { readWmt22, WMT22 } from './util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-prefs-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model candidates (tiny demo model)', () => {
  let base: BaseModel;
  let tok: TextTokenizer;
  let dec: Decoder;
  let tiny: TinyDecoding;
  beforeAll(async () => {
    tiny = await loadTinyDecoding();
    ({ base, tok, dec } = tiny);
  });
  afterAll(() => {
    tiny.release();
  });

  // top-p 1: the random model's flat distributions put nearly all 32,000 tokens in any nucleus (a sort per token).
  const O: CandidateOptions = { ...DEFAULT_CANDIDATES, n: 4, topP: 1, maxNewTokens: 6, useLora: false };

  it('samples N per source, the same for the same (seed, batch) whatever ran before, other ones for another seed', async () => {
    const rows = await readWmt22('de-en', 4);
    const src = decoderCandidates(dec, tok, O);
    const b1 = await src(rows.slice(2, 4), 1);
    const b0 = await src(rows.slice(0, 2), 0);
    expect(b0.texts.map((t) => t.length)).toEqual([4, 4]);
    expect(b0.tokens).toBeGreaterThan(0);
    expect(b0.tokens).toBeLessThanOrEqual(2 * 4 * 6);
    expect(await src(rows.slice(2, 4), 1)).toEqual(b1);
    expect(new Set(b0.texts[0]).size).toBeGreaterThan(1);
    const other = await decoderCandidates(dec, tok, { ...O, seed: 1 })(rows.slice(0, 2), 0);
    expect(other.texts).not.toEqual(b0.texts);
    // Each text is what generate() samples for the repeated prompt, cut and trimmed as translate() does.
    const prompt = promptIds(tok, almaPrompt('de', 'en', rows[0].source));
    expect(b0.texts[0].every((t) => t === t.trim() && !t.includes('\n'))).toBe(true);
    const again = await generate(dec, [prompt, prompt, prompt, prompt, ...Array(4).fill(promptIds(tok, almaPrompt('de', 'en', rows[1].source)))], {
      maxNewTokens: 6, eosIds: eosIds(base.cfg.eosId, tok), isStopToken: newlinePredicate(tok), useLora: false, doSample: true, temperature: O.temperature, topP: O.topP,
      seed: (await import('../../src/prefs/select.ts')).rowSeed(0, 0),
    });
    expect(again.slice(0, 4).map((g) => generatedText(tok, g, true))).toEqual(b0.texts[0]);
  });

  it('the engine (the studio worker\'s side) gives the candidates the decoder gives', async () => {
    const { LocalEngine } = await import('../../src/engine/local.ts');
    const { FolderRunStore } = await import('../../src/train/node-store.ts');
    const engine = new LocalEngine(new FolderRunStore(join(dir, 'runs')));
    try {
      await engine.loadModel({ kind: 'path', path: TINY }, 'none');
      const rows = await readWmt22('de-en', 2);
      const viaEngine = await engine.prefsCandidates(rows, 3, { ...O, adapterRunId: null });
      expect(viaEngine).toEqual(await decoderCandidates(dec, tok, O)(rows, 3));
      await expect(engine.prefsCandidates(rows, 0, { ...O, adapterRunId: 'nope' })).rejects.toThrow(/run nope has no checkpoint/);
    } finally {
      engine.dispose();
    }
  });

  it('beam: the top N hypotheses, best first; the first is what beam translation returns', async () => {
    const rows = await readWmt22('de-en', 3);
    const got = await decoderCandidates(dec, tok, { ...O, strategy: 'beam', n: 3 })(rows, 0);
    const best = await translate(dec, tok, rows.map((r) => r.source), { srcLang: 'de', tgtLang: 'en', maxNewTokens: 6, numBeams: 3, batchSize: 3, useLora: false });
    expect(got.texts.map((t) => t[0])).toEqual(best);
    for (const t of got.texts) {
      expect(t.length).toBeGreaterThan(1);
      expect(t.length).toBeLessThanOrEqual(3);
    }
    const prompts = rows.map((r) => promptIds(tok, almaPrompt('de', 'en', r.source)));
    const all = await beamSearchAll(dec, prompts, { maxNewTokens: 6, eosIds: eosIds(base.cfg.eosId, tok), isStopToken: newlinePredicate(tok), numBeams: 3, lengthPenalty: 1 });
    for (const list of all) for (let i = 1; i < list.length; i++) expect(list[i].score).toBeLessThanOrEqual(list[i - 1].score);
  });
});

describe('cli build-prefs (tiny demo model, 20 WMT22 lines)', () => {
  let err: string[];
  beforeAll(() => {
    err = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterAll(() => vi.restoreAllMocks());

  const common = (out: string) => ['--model', TINY, '--quant', 'none', '--data', join(WMT22, 'de-en.jsonl'), '--pair', 'de-en', '--limit', '20', '--systems', 'gpt4,alma13b_lora', '--candidates', '4', '--max-new-tokens', '8', '--batch', '10', '--top-p', '1', '--metric', 'chrf++', '--exclude-reference', '--seed', '7', '--out', out];

  it('builds the same file twice (once interrupted and resumed), and trains 2 steps on it', async () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    expect(await buildPrefsCommand(common(a))).toBe(0);
    const text = readFileSync(a, 'utf8');
    const rows = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.length).toBeLessThanOrEqual(20);
    for (const r of rows) {
      expect(r.prompt).toMatch(/^Translate this from German to English:\nGerman: .*\nEnglish:$/s);
      expect(r.chosen_score).toBeGreaterThan(r.rejected_score);
      expect(r.candidates.some((c: { from: string[] }) => c.from.some((f) => f.startsWith('model:')))).toBe(true);
    }
    expect(err.join('')).toMatch(/candidates\/s, \d+ tokens\/s/);

    // The second build is interrupted after its first batch (as SIGINT does): the state folder keeps it, and the
    // rerun finishes it, to the bytes of the uninterrupted build.
    const { PrefsBuilder } = await import('../../src/prefs/builder.ts');
    const run = PrefsBuilder.prototype.run;
    const spy = vi.spyOn(PrefsBuilder.prototype, 'run').mockImplementation(function (this: InstanceType<typeof PrefsBuilder>, onProgress) {
      return run.call(this, (p) => {
        onProgress?.(p);
        if (p.done === 10) this.pause();
      });
    });
    expect(await buildPrefsCommand(common(b))).toBe(130);
    spy.mockRestore();
    expect(existsSync(b)).toBe(false);
    err.length = 0;
    expect(await buildPrefsCommand(common(b))).toBe(0);
    expect(err.join('')).toMatch(/resuming at source 10 of 20/);
    expect(readFileSync(b, 'utf8')).toBe(text);

    const adapter = join(dir, 'adapter');
    expect(await trainCommand(['--model', TINY, '--data', a, '--out', adapter, '--max-steps', '2', '--batch-size', '2', '--eval-fraction', '0', '--quant', 'none'])).toBe(0);
    const history = JSON.parse(readFileSync(join(adapter, 'training_history.json'), 'utf8'));
    expect(history.history).toHaveLength(2);
    for (const h of history.history) expect(Number.isFinite(h.loss)).toBe(true);
  }, 420_000);

  it('refuses bad flags before loading anything, naming them (exit code 2)', async () => {
    const said: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void said.push(a.join(' ')));
    try {
      expect(await buildPrefsCommand(['--model', TINY, '--data', 'x', '--out', 'y', '--rejected', 'best'])).toBe(2);
      expect(await buildPrefsCommand(['--model', TINY, '--data', 'x', '--out', 'y', '--metric', 'comet'])).toBe(2);
      expect(await buildPrefsCommand(['--model', TINY, '--out', 'y'])).toBe(2);
      expect(await buildPrefsCommand(['--model', TINY, '--data', join(dir, 'missing.jsonl'), '--out', 'y'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(said[0]).toMatch(/--rejected must be one of worst, random-lower/);
    expect(said[1]).toMatch(/--metric must be one of chrf\+\+, chrf, bleu/);
    expect(said[2]).toMatch(/--data, or --source with --reference, is required/);
    expect(said[3]).toMatch(/missing\.jsonl.*cannot be opened/);
  });
});
