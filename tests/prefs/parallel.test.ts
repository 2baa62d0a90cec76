// Parallel text in: the WMT22 sets (JSONL with system columns), the same rows as CSV, gzipped JSONL and Parquet,
// two line-aligned text files, and the messages for what cannot be used.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readParallel, parallelFromLines } from '../../src/prefs/parallel.ts';
import { gzip, jsonl, memFile } from '../data/helpers.ts';
import { writeParquet } from '../data/parquet-writer.ts';
import { readWmt22, WMT22 } from './util.ts';

const wmtLines = (pair: string, n: number) => readFileSync(resolve(WMT22, `${pair}.jsonl`), 'utf8').split('\n').slice(0, n).map((l) => JSON.parse(l) as Record<string, string>);
const SYSTEMS = ['alma13b_lora', 'alma13b_r', 'gpt4', 'wmt_winner', 'madlad10b'];

describe('readParallel', () => {
  it('reads the WMT22 sets: source, reference, pair, id and every system column', async () => {
    const rows = await readWmt22('de-en', 5);
    const raw = wmtLines('de-en', 5);
    expect(rows).toHaveLength(5);
    rows.forEach((r, i) => {
      expect(r).toMatchObject({ index: i, id: raw[i].id, src: 'de', tgt: 'en', source: raw[i].src, reference: raw[i].ref, origin: { line: i + 1 } });
      expect(r.systems.map((s) => s.name)).toEqual(SYSTEMS);
      expect(r.systems.map((s) => s.text)).toEqual(SYSTEMS.map((k) => raw[i][k]));
    });
    const named = await readWmt22('de-en', 2, { columns: { systems: ['gpt4'] } });
    expect(named[0].systems).toEqual([{ name: 'gpt4', text: raw[0].gpt4 }]);
    const none = await readWmt22('de-en', 2, { columns: {} });
    expect(none[0].systems).toEqual([]);
  });

  it('reads the same rows from CSV (src_lang/tgt_lang columns), gzipped JSONL and Parquet', async () => {
    const raw = wmtLines('cs-en', 4);
    const want = (await readParallel(memFile('x.jsonl', jsonl(raw)), { columns: { systems: ['gpt4'] } })).rows.map(({ src, tgt, source, reference, systems }) => ({ src, tgt, source, reference, systems }));
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const csv = ['source,reference,src_lang,tgt_lang,gpt4', ...raw.map((r) => [r.src, r.ref, 'cs', 'en', r.gpt4].map(q).join(','))].join('\n');
    const pq = writeParquet(['id', 'lp', 'src', 'ref', 'gpt4'].map((name) => ({ name, type: 'string' as const })), raw, { codec: 'snappy' });
    for (const [name, bytes] of [['x.csv', csv], ['x.jsonl.gz', gzip(jsonl(raw))], ['x.parquet', pq]] as const) {
      const got = await readParallel(memFile(name, bytes), { columns: { systems: ['gpt4'] } });
      expect(got.rows.map(({ src, tgt, source, reference, systems }) => ({ src, tgt, source, reference, systems })), name).toEqual(want);
    }
  });

  it('keeps one direction when asked, and counts the others', async () => {
    const mixed = [...wmtLines('de-en', 3), ...wmtLines('en-de', 2)];
    const { rows, report } = await readParallel(memFile('m.jsonl', jsonl(mixed)), { pair: 'en-de' });
    expect(rows.map((r) => `${r.src}-${r.tgt}`)).toEqual(['en-de', 'en-de']);
    expect(rows.map((r) => r.index)).toEqual([0, 1]);
    expect(report).toMatchObject({ rowsRead: 5, usable: 2, otherPairs: 3 });
  });

  it('uses the given pair when the file has no language column', async () => {
    const { rows } = await readParallel(memFile('p.jsonl', jsonl([{ source: 'Hallo', target: 'Hello' }])), { pair: 'de-en' });
    expect(rows[0]).toMatchObject({ src: 'de', tgt: 'en', source: 'Hallo', reference: 'Hello' });
    await expect(readParallel(memFile('p.jsonl', jsonl([{ source: 'Hallo', target: 'Hello' }])))).rejects.toThrow(/p\.jsonl: no language pair column/);
  });

  it('names the file, line and field of what it cannot use', async () => {
    await expect(readParallel(memFile('bad.jsonl', jsonl([{ text: 'a', lp: 'de-en' }])))).rejects.toThrow(/bad\.jsonl: no source column .*columns: text, lp/);
    await expect(readParallel(memFile('bad.jsonl', jsonl([{ src: 'a', ref: 'b', lp: 'de-en' }])), { columns: { systems: ['gpt4'] } })).rejects.toThrow(/system column "gpt4" not in the first record/);
    const rows = [{ src: 'a', ref: 'b', lp: 'de-en' }, { src: 'c', ref: 7, lp: 'de-en' }, { src: 'd', ref: 'e', lp: 'xx-en' }, { src: 'f', ref: 'g', lp: 'de-en' }];
    const { rows: ok, report } = await readParallel(memFile('some.jsonl', jsonl(rows)));
    expect(ok.map((r) => r.source)).toEqual(['a', 'f']);
    expect(report.issueCount).toBe(2);
    expect(report.issues.map((i) => [i.line, i.field])).toEqual([[2, 'ref'], [3, 'lp']]);
    await expect(readParallel(memFile('none.jsonl', jsonl([{ src: 'a', ref: 2, lp: 'de-en' }])))).rejects.toThrow(/none\.jsonl: no usable parallel rows .*line 1/);
  });

  it('pairs two line-aligned text files', () => {
    const { rows, report } = parallelFromLines(['Hallo', '', 'Welt'], ['Hello', 'x', 'World'], 'de-en', ['src.txt', 'ref.txt']);
    expect(rows.map((r) => [r.index, r.source, r.reference, r.origin.line])).toEqual([[0, 'Hallo', 'Hello', 1], [1, 'Welt', 'World', 3]]);
    expect(report.issues[0]).toMatchObject({ line: 2, field: 'src.txt' });
    expect(() => parallelFromLines(['a'], ['b', 'c'], 'de-en', ['src.txt', 'ref.txt'])).toThrow(/src\.txt has 1 lines but ref\.txt has 2/);
  });
});
