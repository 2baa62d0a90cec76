import { describe, expect, it } from 'vitest';
import { formatReport, readPreferenceFile } from '../../src/data/index.ts';
import { enc, gzip, jsonl, memFile } from './helpers.ts';

const ok = { prompt: 'P', chosen: 'yes', rejected: 'no' };

describe('bad rows are listed with line, field and reason', () => {
  it('JSON Lines: every kind of bad row', async () => {
    const lines = [
      JSON.stringify(ok), // 1
      JSON.stringify({ prompt: 'P', rejected: 'no' }), // 2 missing chosen
      JSON.stringify({ prompt: 'P', chosen: 5, rejected: 'no' }), // 3 non-string
      JSON.stringify({ prompt: 'P', chosen: '   ', rejected: 'no' }), // 4 empty
      JSON.stringify({ prompt: 'P', chosen: 'same', rejected: 'same' }), // 5 identical
      '{"prompt": "P", "chosen": "broken', // 6 malformed
      JSON.stringify(ok), // 7 duplicate of 1
      '[1, 2]', // 8 not an object
      '', // blank
      JSON.stringify({ prompt: '', chosen: 'a', rejected: 'b' }), // 10 empty prompt
    ];
    const bytes = enc(lines.join('\n') + '\n');
    // line 11: invalid UTF-8 inside a string
    const bad = new Uint8Array([...bytes, ...enc('{"prompt": "P", "chosen": "x'), 0xc3, 0x28, ...enc('", "rejected": "y"}\n')]);
    const r = await readPreferenceFile(memFile('bad.jsonl', bad));
    expect(r.rows).toHaveLength(1);
    expect(r.report.rowsRead).toBe(10);
    expect(r.report.blankLines).toBe(1);
    expect(r.report.issues.map((i) => [i.line, i.field, i.reason])).toEqual([
      [2, 'chosen', 'missing-field'],
      [3, 'chosen', 'non-string-field'],
      [4, 'chosen', 'empty-text'],
      [5, 'chosen', 'identical-pair'],
      [6, undefined, 'malformed-json'],
      [7, undefined, 'duplicate-pair'],
      [8, undefined, 'not-an-object'],
      [10, 'prompt', 'empty-text'],
      [11, 'chosen', 'invalid-utf8'],
    ]);
    expect(r.report.issues[5].message).toMatch(/row 1/);
    // Nothing dropped without being counted.
    const counted = Object.values(r.report.counts).reduce((s, n) => s + (n ?? 0), 0);
    expect(counted + r.report.rowsUsable).toBe(r.report.rowsRead);
    // Plain data: survives JSON and structured cloning unchanged.
    expect(JSON.parse(JSON.stringify(r.report))).toEqual(r.report);
    expect(structuredClone(r.report)).toEqual(r.report);
    const text = formatReport(r.report);
    expect(text).toContain('bad.jsonl');
    expect(text).toMatch(/rows usable: +1/);
    expect(text).toMatch(/line 11\) \[chosen\]: invalid UTF-8/);
  });

  it('CSV: wrong field counts and an unterminated quote', async () => {
    const csv = 'prompt,chosen,rejected\nP,a,b\nP,a\nP,"open,b\nmore\n';
    const r = await readPreferenceFile(memFile('bad.csv', csv));
    expect(r.rows).toHaveLength(1);
    expect(r.report.issues.map((i) => [i.line, i.reason])).toEqual([
      [3, 'malformed-csv'],
      [4, 'malformed-csv'],
    ]);
    expect(r.report.warnings.join()).toMatch(/ends inside a quoted field/);
  });

  it('caps the listing but never the counts', async () => {
    const rows = Array.from({ length: 50 }, () => ({ prompt: 'P', chosen: 'c' }));
    const r = await readPreferenceFile(memFile('m.jsonl', jsonl(rows)), { maxListedIssues: 10 });
    expect(r.report.issues).toHaveLength(10);
    expect(r.report.issuesOmitted).toBe(40);
    expect(r.report.counts['missing-field']).toBe(50);
    expect(formatReport(r.report, 5)).toContain('… and 45 more');
  });
});

describe('broken files get a clear error naming the file', () => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ['empty.jsonl', '', /empty\.jsonl: is empty/],
    ['empty.csv.gz', gzip(''), /empty\.csv\.gz: is empty/],
    ['binary.jsonl', new Uint8Array([0x7b, 0, 1, 2, 3, 0, 0, 9]), /binary\.jsonl: looks like binary/],
    ['noise.bin', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), /noise\.bin: is not in a format/],
    ['cut.jsonl.gz', gzip(jsonl(Array.from({ length: 500 }, (_, i) => ({ ...ok, chosen: `c${i}` })))).subarray(0, 300), /cut\.jsonl\.gz: .*(gzip|unexpected end|failed)/i],
    ['fake.jsonl.gz', 'not gzip', /fake\.jsonl\.gz: is named \.gz/],
    ['utf16.jsonl', new Uint8Array([0xff, 0xfe, 0x7b, 0]), /UTF-16/],
    ['scalar.json', '42', /scalar\.json: is not a JSON array or object/],
    ['obj.json', '{"a": 1, "b": "x"}', /obj\.json: .*no array of rows/],
    ['cols.jsonl', jsonl([{ foo: 1, bar: 2 }]), /cols\.jsonl: cannot tell the row layout .*foo, bar/],
  ];
  for (const [name, content, re] of cases) {
    it(name, async () => {
      await expect(readPreferenceFile(memFile(name, content))).rejects.toThrow(re);
    });
  }

  it('a truncated JSON array keeps the complete elements and reports the cut one', async () => {
    const full = JSON.stringify([ok, { ...ok, chosen: 'y2' }, { ...ok, chosen: 'y3' }]);
    const r = await readPreferenceFile(memFile('cut.json', full.slice(0, full.length - 8)));
    expect(r.rows).toHaveLength(2);
    expect(r.report.issues[0]).toMatchObject({ row: 3, reason: 'malformed-json' });
    expect(r.report.warnings.join()).toMatch(/truncated/);
  });

  it('a file that is all bad rows still returns a full report', async () => {
    const r = await readPreferenceFile(memFile('junk.jsonl', 'nope\n{bad\n'));
    expect(r.rows).toEqual([]);
    expect(r.report.counts['malformed-json']).toBe(2);
  });
});
