import { describe, expect, it } from 'vitest';
import { readPreferenceFile } from '../../src/data/index.ts';
import { enc, gzip, jsonl, memFile, streamOf } from './helpers.ts';

const rows = [
  { prompt: 'Q1?', chosen: ' good one', rejected: ' bad one' },
  { prompt: 'Q2 "quoted", with comma', chosen: 'line1\nline2', rejected: 'nope' },
  { prompt: 'Q3 ünïcødé 中文', chosen: 'ja', rejected: 'nein' },
];

const csvCell = (s: string) => (/[",\n\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const toDelimited = (d: string) =>
  ['prompt,chosen,rejected'.replace(/,/g, d), ...rows.map((r) => [r.prompt, r.chosen, r.rejected].map(csvCell).join(d))].join('\r\n') + '\r\n';

function texts(r: Awaited<ReturnType<typeof readPreferenceFile>>) {
  return r.rows.map((x) => (x.kind === 'text' ? { prompt: x.prompt, chosen: x.chosen, rejected: x.rejected } : null));
}

describe('containers', () => {
  it('reads JSON Lines across tiny chunks, with a BOM, CRLF and blank lines', async () => {
    const text = '\uFEFF' + jsonl(rows).replace(/\n/g, '\r\n') + '\r\n\r\n';
    const r = await readPreferenceFile(memFile('d.jsonl', text, 5));
    expect(r.detected).toEqual({ container: 'jsonl', format: 'trl', gzip: false });
    expect(texts(r)).toEqual(rows);
    expect(r.report.rowsRead).toBe(3);
    expect(r.report.blankLines).toBe(2);
    expect(r.rows.map((x) => x.line)).toEqual([1, 2, 3]);
  });

  it('reads a JSON array and an object holding one', async () => {
    const a = await readPreferenceFile(memFile('d.json', JSON.stringify(rows, null, 2), 3));
    expect(a.detected.container).toBe('json');
    expect(texts(a)).toEqual(rows);
    expect(a.rows[1].line).toBeGreaterThan(a.rows[0].line);
    const b = await readPreferenceFile(memFile('d.json', JSON.stringify({ version: 1, meta: { x: [1] }, data: rows })));
    expect(texts(b)).toEqual(rows);
    const c = await readPreferenceFile(memFile('d.json', JSON.stringify({ train: rows.slice(0, 1), test: rows.slice(1) }), 11), { jsonKey: 'test' });
    expect(texts(c)).toEqual(rows.slice(1));
    const d = await readPreferenceFile(memFile('d.json', JSON.stringify({ rows: rows.map((row, i) => ({ row_idx: i, row, truncated_cells: [] })) })));
    expect(texts(d)).toEqual(rows);
  });

  it('reads CSV and TSV with quoted fields, doubled quotes and embedded newlines', async () => {
    const c = await readPreferenceFile(memFile('d.csv', toDelimited(','), 4));
    expect(c.detected.container).toBe('csv');
    expect(texts(c)).toEqual(rows);
    expect(c.rows.map((x) => x.line)).toEqual([2, 3, 5]);
    const t = await readPreferenceFile(memFile('d.tsv', toDelimited('\t'), 4));
    expect(t.detected.container).toBe('tsv');
    expect(texts(t)).toEqual(rows);
  });

  it('decompresses gzip by magic bytes, whatever the name', async () => {
    const g = await readPreferenceFile(memFile('d.jsonl.gz', gzip(jsonl(rows)), 9));
    expect(g.detected).toEqual({ container: 'jsonl', format: 'trl', gzip: true });
    expect(texts(g)).toEqual(rows);
    const h = await readPreferenceFile(memFile('d.csv', gzip(toDelimited(','))));
    expect(texts(h)).toEqual(rows);
  });

  it('detects by content when the extension is wrong, and honours overrides', async () => {
    const a = await readPreferenceFile(memFile('d.json', jsonl(rows)));
    expect(a.detected.container).toBe('jsonl');
    const b = await readPreferenceFile(memFile('d.jsonl', JSON.stringify(rows)));
    expect(b.detected.container).toBe('json');
    const c = await readPreferenceFile(memFile('d.txt', toDelimited('\t')));
    expect(c.detected.container).toBe('tsv');
    const d = await readPreferenceFile(memFile('d.txt', toDelimited(',')), { container: 'csv' });
    expect(texts(d)).toEqual(rows);
  });

  it('accepts a bare ReadableStream and a Blob, and reports progress up to the total', async () => {
    const bytes = enc(jsonl(Array.from({ length: 200 }, (_, i) => ({ prompt: `p${i}`, chosen: `c${i}`, rejected: `r${i}` }))));
    const seen: [number, number | undefined][] = [];
    const s = await readPreferenceFile(streamOf(bytes, 1000), { name: 'x.jsonl', totalBytes: bytes.length, onProgress: (a, b) => seen.push([a, b]) });
    expect(s.rows).toHaveLength(200);
    expect(seen.at(-1)).toEqual([bytes.length, bytes.length]);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    expect(s.report.bytesRead).toBe(bytes.length);
    const blob = new Blob([bytes as BlobPart]);
    const b = await readPreferenceFile(blob, { name: 'y.jsonl' });
    expect(b.rows).toHaveLength(200);
    expect(b.report.file).toBe('y.jsonl');
  });
});
