// Text-level translation on the tiny demo model (random weights, real Llama-2 tokenizer): prompt building,
// newline stops, batching, and the translate and eval commands end to end.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../src/cli/eval.ts';
import { translateCommand } from '../../src/cli/translate.ts';
import { almaPrompt } from '../../src/data/rows/languages.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { translateWithAdapter } from '../../src/generate/with-adapter.ts';
import { generatedText, newlinePredicate, promptIds, translate } from '../../src/generate/translate.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { exportLora } from '../../src/model/adapter.ts';
import { createLora, releaseLora } from '../../src/model/lora.ts';
import type { BaseModel } from '../../src/model/model.ts';
import type { TextTokenizer } from '../../src/model/tokenizer.ts';
import { Rng } from '../../src/util/rng.ts';
import { loadTinyDecoding, TINY, type TinyDecoding } from '../util/tiny.ts';

const SOURCES = ['Guten Morgen.', 'Das ist ein kleiner Test für die Übersetzung.', 'Hallo'];
const dir = mkdtempSync(join(tmpdir(), 'cpo-generate-'));

describe('translate (tiny demo model)', () => {
  let ctx: GpuContext;
  let base: BaseModel;
  let tok: TextTokenizer;
  let dec: Decoder;
  let tiny: TinyDecoding;
  beforeAll(async () => {
    tiny = await loadTinyDecoding();
    ({ ctx, base, tok, dec } = tiny);
  });
  afterAll(() => {
    tiny.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the ALMA prompt with BOS first, and cuts generations at the first newline', () => {
    const ids = promptIds(tok, almaPrompt('de', 'en', SOURCES[0]));
    expect(ids[0]).toBe(1);
    expect(ids.filter((t) => t === 1)).toHaveLength(1);
    expect(tok.decode(ids, true)).toBe(almaPrompt('de', 'en', SOURCES[0]));
    const nl = newlinePredicate(tok);
    expect(nl(13)).toBe(true); // <0x0A>
    expect(nl(22557)).toBe(false); // ▁Hello
    const g = { ids: [...tok.encode('Hello'), 13, ...tok.encode('World')], stop: 'length' as const, logp: 0, score: 0 };
    expect(generatedText(tok, g, true)).toBe('Hello');
    expect(generatedText(tok, g, false)).toMatch(/^Hello\n ?World$/);
  });

  it('translates in batches as one by one, greedy and with beams', async () => {
    const o = { srcLang: 'de', tgtLang: 'English', maxNewTokens: 5 };
    const batched = await translate(dec, tok, SOURCES, { ...o, batchSize: 3 });
    const single = await translate(dec, tok, SOURCES, { ...o, batchSize: 1 });
    expect(batched).toEqual(single);
    expect(batched).toHaveLength(3);
    for (const t of batched) expect(t).not.toMatch(/\n/);
    const beams = await translate(dec, tok, SOURCES, { ...o, numBeams: 2, batchSize: 2 });
    expect(beams).toHaveLength(3);
    await expect(translate(dec, tok, SOURCES, { ...o, srcLang: 'xx' })).rejects.toThrow(/unknown language/);
  });

  describe('commands', () => {
    let out: string[];
    beforeAll(() => {
      out = [];
      vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    });
    afterEach(() => {
      out.length = 0;
    });
    afterAll(() => vi.restoreAllMocks());

    it('translate prints one line per source; eval scores base and adapter and writes its files', async () => {
      const input = join(dir, 'src.txt');
      const ref = join(dir, 'ref.txt');
      writeFileSync(input, SOURCES.join('\n') + '\n');
      writeFileSync(ref, ['Good morning.', 'This is a small translation test.', 'Hello'].join('\n') + '\n');
      const common = ['--model', TINY, '--quant', 'none', '--src-lang', 'de', '--tgt-lang', 'en', '--max-new-tokens', '4'];
      expect(await translateCommand([...common, '--input', input, '--batch', '2'])).toBe(0);
      expect(out).toEqual(await translate(dec, tok, SOURCES, { srcLang: 'de', tgtLang: 'en', maxNewTokens: 4 }));
      out.length = 0;

      // An adapter that moves the outputs: A and B both random.
      const rng = new Rng(3);
      const init = new Map<string, Float32Array>();
      const probe = createLora(ctx, base.cfg, { r: 2, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'], useRslora: false }, 1);
      for (const row of probe.modules) for (const m of Object.values(row)) {
        const prefix = `base_model.model.model.layers.${m.layer}.${['q_proj', 'v_proj'].includes(m.proj) ? 'self_attn' : 'mlp'}.${m.proj}`;
        init.set(`${prefix}.lora_A.weight`, rng.randn(2 * m.K, 0.5));
        init.set(`${prefix}.lora_B.weight`, rng.randn(m.N * 2, 0.5));
      }
      releaseLora(ctx, probe);
      const lora = createLora(ctx, base.cfg, { r: 2, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'], useRslora: false }, 1, init);
      const exported = await exportLora(ctx, lora, 'tiny', 'F32');
      releaseLora(ctx, lora);
      const adapter = join(dir, 'adapter');
      mkdirSync(adapter);
      writeFileSync(join(adapter, 'adapter_config.json'), exported.config);
      writeFileSync(join(adapter, 'adapter_model.safetensors'), exported.weights);

      const res = join(dir, 'eval');
      expect(await evalCommand([...common, '--adapter', adapter, '--input', input, '--ref', ref, '--limit', '2', '--out', res])).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(/chrF2\s+\d+\.\d\d\s+\d+\.\d\d\s+[+-]\d+\.\d\d/);
      expect(text).toMatch(/BLEU/);
      const baseTxt = readFileSync(join(res, 'base.txt'), 'utf8').split('\n');
      const adapterTxt = readFileSync(join(res, 'adapter.txt'), 'utf8').split('\n');
      expect(baseTxt.slice(0, 2)).toEqual((await translate(dec, tok, SOURCES.slice(0, 2), { srcLang: 'de', tgtLang: 'en', maxNewTokens: 4 })));
      expect(adapterTxt).toHaveLength(3);
      expect(adapterTxt.slice(0, 2)).not.toEqual(baseTxt.slice(0, 2));
      // The engine's entry point, with the adapter as a checkpoint holds it, agrees with the command.
      const stored = { r: 2, alpha: 16, targets: ['q_proj', 'v_proj', 'down_proj'], useRslora: false, tensors: init };
      const viaEngine = await translateWithAdapter(ctx, base, tok, stored, SOURCES.slice(0, 2), { srcLang: 'de', tgtLang: 'en', maxNewTokens: 4 });
      expect(viaEngine).toEqual(adapterTxt.slice(0, 2));
      const scores = JSON.parse(readFileSync(join(res, 'scores.json'), 'utf8'));
      expect(scores.segments).toBe(2);
      for (const k of ['base', 'adapter']) for (const m of ['chrf2', 'chrfpp', 'bleu']) expect(typeof scores.scores[k][m]).toBe('number');

      // --data: translation triplets; the ALMA prompt is built from each row, the chosen side is the reference.
      const data = join(dir, 'triplets.jsonl');
      const rows = [
        { lp: 'de-en', source: SOURCES[0], chosen: 'Good morning.', rejected: 'Good day.' },
        { lp: 'en-de', source: 'Hello', chosen: 'Hallo', rejected: 'Hi' },
      ];
      writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      out.length = 0;
      const res2 = join(dir, 'eval2');
      expect(await evalCommand([...common, '--adapter', adapter, '--data', data, '--out', res2, '--show', '1'])).toBe(0);
      expect(out.join('\n')).toContain('source:  Guten Morgen.');
      expect(readFileSync(join(res2, 'base.txt'), 'utf8')).toBe(`${baseTxt[0]}\n`);
    });
  });
});
