import { describe, expect, it } from 'vitest';
import { readPreferenceFile } from '../../src/data/index.ts';
import { gzip, memFile } from './helpers.ts';
import { writeParquet, type ColumnSpec, type WriteOptions } from './parquet-writer.ts';

const trlCols: ColumnSpec[] = [
  { name: 'prompt', type: 'string' },
  { name: 'chosen', type: 'string' },
  { name: 'rejected', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'id', type: 'int64' },
];
const trlRows = Array.from({ length: 37 }, (_, i) => ({
  prompt: `Question ${i % 5}: how are you?`,
  chosen: i % 2 ? ' Fine, thanks.' : ' Very well, thank you.',
  rejected: ` No ${i}.`,
  score: i / 4,
  id: 1000 + i,
}));

async function roundTrip(cols: ColumnSpec[], rows: Record<string, unknown>[], opts: WriteOptions, name = 'd.parquet') {
  return readPreferenceFile(memFile(name, writeParquet(cols, rows, opts)));
}

describe('parquet (files from our test writer)', () => {
  const variants: [string, WriteOptions][] = [
    ['plain, uncompressed, v1', { codec: 'none' }],
    ['dictionary, snappy, v1, several pages and row groups', { codec: 'snappy', dictionary: true, pageRows: 4, rowGroupSize: 10 }],
    ['dictionary, gzip, v2', { codec: 'gzip', dictionary: true, pageVersion: 2, pageRows: 8 }],
    ['plain, snappy, v2', { codec: 'snappy', pageVersion: 2 }],
  ];
  for (const [label, opts] of variants) {
    it(`reads flat columns: ${label}`, async () => {
      const r = await roundTrip(trlCols, trlRows, opts);
      expect(r.detected).toEqual({ container: 'parquet', format: 'trl', gzip: false });
      expect(r.report.rowsRead).toBe(trlRows.length);
      expect(r.rows.map((x) => (x.kind === 'text' ? [x.prompt, x.chosen, x.rejected] : null))).toEqual(
        trlRows.map((x) => [x.prompt, x.chosen, x.rejected]),
      );
      expect(r.rows.map((x) => x.row)).toEqual(trlRows.map((_, i) => i + 1));
    });
  }

  it('reads conversational rows from list<struct<content, role>> columns, with nulls and empty lists', async () => {
    const cols: ColumnSpec[] = [
      { name: 'prompt', type: 'messages' },
      { name: 'chosen', type: 'messages' },
      { name: 'rejected', type: 'messages' },
    ];
    const m = (role: string, content: string) => ({ role, content });
    const data = [
      { prompt: [m('system', 'Be brief.'), m('user', 'Hi?')], chosen: [m('assistant', 'Hello.')], rejected: [m('assistant', 'Go away.')] },
      { prompt: [m('user', 'Sum 2+2')], chosen: [m('assistant', '4')], rejected: [m('assistant', '5')] },
      { prompt: [m('user', 'x')], chosen: [], rejected: [m('assistant', 'y')] },
      { prompt: [m('user', 'x')], chosen: null, rejected: [m('assistant', 'y')] },
    ];
    for (const opts of [{ codec: 'snappy', dictionary: true }, { codec: 'none', pageVersion: 2, pageRows: 1 }] as WriteOptions[]) {
      const r = await roundTrip(cols, data, opts);
      expect(r.rows).toHaveLength(2);
      expect(r.rows[0]).toMatchObject({ kind: 'chat', prompt: data[0].prompt, chosen: data[0].chosen, rejected: data[0].rejected });
      expect(r.rows[1]).toMatchObject({ kind: 'chat', prompt: data[1].prompt });
      expect(r.report.issues.map((i) => [i.row, i.field, i.reason])).toEqual([
        [3, 'chosen', 'empty-text'],
        [4, 'chosen', 'missing-field'],
      ]);
    }
  });

  it('reads struct columns with null members (the ALMA-R layout)', async () => {
    const fields = ['de', 'en', 'gpt4_en', 'alma_en', 'language_pair', 'required_directions'].map((name) => ({ name, type: 'string' as const }));
    const scores = ['ref_en_kiwi_xcomet', 'gpt4_en_kiwi_xcomet', 'alma_en_kiwi_xcomet', 'Delta'].map((name) => ({ name, type: 'double' as const }));
    const cols: ColumnSpec[] = [{ name: 'translation', type: 'struct', fields: [...fields, ...scores] }];
    const t = {
      de: 'Hallo Welt', en: 'Hello world', gpt4_en: 'Hello, world', alma_en: 'Hi world', language_pair: 'de-en', required_directions: 'de-en',
      ref_en_kiwi_xcomet: 0.8, gpt4_en_kiwi_xcomet: 0.9, alma_en_kiwi_xcomet: 0.7, Delta: 0,
    };
    const r = await roundTrip(cols, [{ translation: t }, { translation: { ...t, alma_en: null } }, { translation: null }], { codec: 'snappy', dictionary: true });
    expect(r.detected.format).toBe('alma-r');
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ chosen: 'Hello, world', rejected: 'Hi world', langPair: 'de-en' });
    expect(r.report.issues.map((i) => [i.row, i.field, i.reason])).toEqual([
      [2, 'translation.alma_en', 'missing-field'],
      [3, 'translation', 'missing-field'],
    ]);
  });

  it('flags invalid UTF-8 inside a string column', async () => {
    const bad = Uint8Array.from([0x66, 0xff, 0x6f]);
    const r = await roundTrip(trlCols.slice(0, 3), [{ prompt: 'p', chosen: bad, rejected: 'r' }, { prompt: 'p', chosen: 'c', rejected: 'r' }], {});
    expect(r.rows).toHaveLength(1);
    expect(r.report.issues[0]).toMatchObject({ row: 1, field: 'chosen', reason: 'invalid-utf8' });
  });

  it('reads gzip-wrapped Parquet and Parquet from a bare stream', async () => {
    const bytes = writeParquet(trlCols, trlRows, { codec: 'snappy' });
    const g = await readPreferenceFile(memFile('d.parquet.gz', gzip(bytes)));
    expect(g.detected).toMatchObject({ container: 'parquet', gzip: true });
    expect(g.rows).toHaveLength(trlRows.length);
    const s = await readPreferenceFile(memFile('x.bin', bytes).stream(), { name: 'x.bin' });
    expect(s.rows).toHaveLength(trlRows.length);
  });

  it('rejects truncated and corrupt Parquet with a message naming the file', async () => {
    const bytes = writeParquet(trlCols, trlRows, { codec: 'snappy' });
    await expect(readPreferenceFile(memFile('cut.parquet', bytes.subarray(0, bytes.length - 100)))).rejects.toThrow(/cut\.parquet: .*truncated/);
    const broken = bytes.slice();
    broken.fill(0xee, 40, 120); // inside the first column chunk
    await expect(readPreferenceFile(memFile('bad.parquet', broken))).rejects.toThrow(/bad\.parquet: /);
    await expect(readPreferenceFile(memFile('tiny.parquet', bytes.subarray(0, 8)))).rejects.toThrow(/tiny\.parquet/);
  });
});
