import { describe, expect, it } from 'vitest';
import { almaChoose, extractPrompt, readPreferenceFile, type PreferenceRow } from '../../src/data/index.ts';
import { jsonl, memFile } from './helpers.ts';

const read = (name: string, text: string, opts = {}) => readPreferenceFile(memFile(name, text, 64), opts);
const text = (r: PreferenceRow) => (r.kind === 'text' ? [r.prompt, r.chosen, r.rejected] : null);

describe('TRL layouts', () => {
  it('extracts an implicit prompt as TRL does, keeping the space with the completions', () => {
    expect(extractPrompt('The sky is blue.', 'The sky is green.')).toEqual({ prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' });
    expect(extractPrompt('Q: 2+2? A: 4', 'Q: 2+2? A: 5')).toEqual({ prompt: 'Q: 2+2? A:', chosen: ' 4', rejected: ' 5' });
    expect(extractPrompt('Say: yes', 'Say: no')).toEqual({ prompt: 'Say:', chosen: ' yes', rejected: ' no' });
    // TRL's loop ends one short when one side is a prefix of the other.
    expect(extractPrompt('abc', 'abcd')).toEqual({ prompt: 'ab', chosen: 'c', rejected: 'cd' });
    const u = { role: 'user', content: 'hi' };
    const a = { role: 'assistant', content: 'hello' };
    const b = { role: 'assistant', content: 'go away' };
    expect(extractPrompt([u, a], [u, b])).toEqual({ prompt: [u], chosen: [a], rejected: [b] });
  });

  it('reads standard, implicit and conversational rows, mixed', async () => {
    const u = { role: 'user', content: 'hi' };
    const r = await read(
      'd.jsonl',
      jsonl([
        { prompt: 'P', chosen: ' yes', rejected: ' no' },
        { chosen: 'The sky is blue.', rejected: 'The sky is green.' },
        { prompt: [u], chosen: [{ role: 'assistant', content: 'hello' }], rejected: [{ role: 'assistant', content: 'bye' }] },
        { chosen: [u, { role: 'assistant', content: 'A' }], rejected: [u, { role: 'assistant', content: 'B' }] },
      ]),
    );
    expect(r.report.issues).toEqual([]);
    expect(r.rows.map((x) => x.kind)).toEqual(['text', 'text', 'chat', 'chat']);
    expect(text(r.rows[1])).toEqual(['The sky is', ' blue.', ' green.']);
    expect(r.rows[3]).toMatchObject({ prompt: [u], chosen: [{ role: 'assistant', content: 'A' }] });
  });

  it('reads conversational rows from CSV cells holding JSON', async () => {
    const cell = (v: unknown) => `"${JSON.stringify(v).replace(/"/g, '""')}"`;
    const csv = `prompt,chosen,rejected\n${cell([{ role: 'user', content: 'q' }])},${cell([{ role: 'assistant', content: 'a' }])},${cell([{ role: 'assistant', content: 'b' }])}\n`;
    const r = await read('c.csv', csv);
    expect(r.rows[0]).toMatchObject({ kind: 'chat', prompt: [{ role: 'user', content: 'q' }] });
  });
});

describe('translation triplets', () => {
  it('renders the ALMA prompt with full language names', async () => {
    const r = await read(
      't.jsonl',
      jsonl([
        { source: 'Guten Morgen.', lp: 'de-en', chosen: 'Good morning.', rejected: 'Good tomorrow.' },
        { src: '早上好', src_lang: 'zh', tgt_lang: 'en', chosen: 'Good morning', rejected: 'Early good' },
        { source: 'Hello', language_pair: 'en-is', chosen: 'Halló', rejected: 'Hæ' },
        { source: 'Hello', lp: 'en-xx', chosen: 'a', rejected: 'b' },
      ]),
    );
    expect(r.detected.format).toBe('translation');
    expect(text(r.rows[0])).toEqual(['Translate this from German to English:\nGerman: Guten Morgen.\nEnglish:', 'Good morning.', 'Good tomorrow.']);
    expect(r.rows[1].kind === 'text' && r.rows[1].prompt).toBe('Translate this from Chinese to English:\nChinese: 早上好\nEnglish:');
    expect(r.rows[2].langPair).toBe('en-is');
    expect(r.report.languagePairs).toEqual({ 'de-en': 1, 'zh-en': 1, 'en-is': 1 });
    expect(r.report.issues[0]).toMatchObject({ row: 4, field: 'lp', reason: 'unknown-language' });
  });

  it('maps arbitrary columns: the WMT22 layout with a column pair, and a fixed pair', async () => {
    const wmt = { id: 'x', lp: 'cs-en', src: 'Ahoj', ref: 'Hello', alma13b_lora: 'Hi there', gpt4: 'Hello.' };
    const r = await read('w.jsonl', jsonl([wmt]), { mapping: { source: 'src', chosen: 'ref', rejected: 'alma13b_lora', langPairColumn: 'lp' } });
    expect(r.detected.format).toBe('mapping');
    expect(text(r.rows[0])).toEqual(['Translate this from Czech to English:\nCzech: Ahoj\nEnglish:', 'Hello', 'Hi there']);
    const f = await read('f.jsonl', jsonl([{ a: 'Bonjour', b: 'Hello', c: 'Good day' }]), { mapping: { source: 'a', chosen: 'b', rejected: 'c', langPair: 'fr-en' } });
    expect(f.rows[0].langPair).toBe('fr-en');
    const g = await read('g.jsonl', jsonl([{ q: { text: 'Why?' }, good: 'Because.', bad: 'No.' }]), { mapping: { prompt: 'q.text', chosen: 'good', rejected: 'bad' } });
    expect(text(g.rows[0])).toEqual(['Why?', 'Because.', 'No.']);
  });
});

describe('ALMA-R-Preference rule', () => {
  const base = {
    de: 'Das Haus ist klein.',
    en: 'The house is small.',
    gpt4_en: 'The house is little.',
    alma_en: 'House small.',
    gpt4_de: 'Das Haus ist winzig.',
    alma_de: 'Haus ist klein.',
    ref_en_kiwi_xcomet: 0.9, gpt4_en_kiwi_xcomet: 0.95, alma_en_kiwi_xcomet: 0.5,
    ref_en_kiwi: 0.7, gpt4_en_kiwi: 0.6, alma_en_kiwi: 0.8,
    ref_en_xcomet: 0.5, gpt4_en_xcomet: 0.5, alma_en_xcomet: 0.5,
    ref_de_kiwi_xcomet: 0.4, gpt4_de_kiwi_xcomet: 0.8, alma_de_kiwi_xcomet: 0.6,
    ref_de_kiwi: 0.4, gpt4_de_kiwi: 0.8, alma_de_kiwi: 0.6,
    ref_de_xcomet: 0.4, gpt4_de_xcomet: 0.8, alma_de_xcomet: 0.6,
    Delta: 0,
    language_pair: 'de-en',
    required_directions: '',
  };

  it('picks the highest-scoring candidate as chosen and the lowest as rejected, per scorer', () => {
    expect(almaChoose(base, 'en', 'kiwi_xcomet')).toMatchObject({ chosenFrom: 'gpt4', rejectedFrom: 'alma', byHuman: false });
    expect(almaChoose(base, 'en', 'kiwi')).toMatchObject({ chosenFrom: 'alma', rejectedFrom: 'gpt4' });
    expect(almaChoose(base, 'de', 'kiwi_xcomet')).toMatchObject({ chosen: 'Das Haus ist winzig.', rejected: 'Das Haus ist klein.', chosenFrom: 'gpt4', rejectedFrom: 'ref' });
    // Ties: the first of [ref, gpt4, alma] wins both max and min, as Python's list.index does.
    expect(almaChoose({ ...base, ref_en_kiwi: 0.8 }, 'en', 'kiwi')).toMatchObject({ chosenFrom: 'ref', rejectedFrom: 'gpt4' });
    expect(almaChoose(base, 'en', 'xcomet')).toMatchObject({ chosenFrom: 'ref', rejectedFrom: 'ref' });
  });

  it('uses the human label when Delta is not zero', () => {
    expect(almaChoose({ ...base, Delta: 2 }, 'en', 'kiwi')).toMatchObject({ chosenFrom: 'gpt4', rejectedFrom: 'alma', byHuman: true });
    expect(almaChoose({ ...base, Delta: -1.5 }, 'en', 'kiwi_xcomet')).toMatchObject({ chosenFrom: 'alma', rejectedFrom: 'gpt4', byHuman: true });
  });

  it('makes both directions unless required_directions or the directions option restrict them', async () => {
    const rows = [
      { translation: base },
      { translation: { ...base, en: 'The house is tiny.', required_directions: 'en-de' } },
      { translation: { ...base, en: 'A small house.', gpt4_en: 'x' } },
    ];
    const r = await read('a.jsonl', jsonl(rows));
    expect(r.detected.format).toBe('alma-r');
    expect(r.rows.map((x) => [x.row, x.langPair])).toEqual([
      [1, 'de-en'],
      [1, 'en-de'],
      [2, 'en-de'],
      [3, 'de-en'],
      [3, 'en-de'],
    ]);
    expect(text(r.rows[0])).toEqual(['Translate this from German to English:\nGerman: Das Haus ist klein.\nEnglish:', 'The house is little.', 'House small.']);
    expect(text(r.rows[1])![0]).toBe('Translate this from English to German:\nEnglish: The house is small.\nGerman:');
    expect(r.report.skippedDirections).toBe(1);
    const only = await read('a.jsonl', jsonl(rows), { directions: ['en-de'], scorer: 'kiwi' });
    expect(only.rows.map((x) => x.langPair)).toEqual(['en-de', 'en-de', 'en-de']);
    expect(only.report.skippedDirections).toBe(3);
    expect(only.report.rowsUsable).toBe(3);
  });

  it('reads flattened ALMA-R rows (e.g. a CSV export) with numeric strings', async () => {
    const keys = Object.keys(base);
    const csv = keys.join(',') + '\n' + keys.map((k) => String((base as Record<string, unknown>)[k])).join(',') + '\n';
    const r = await read('a.csv', csv);
    expect(r.detected.format).toBe('alma-r');
    expect(r.rows).toHaveLength(2);
  });
});
