// Parquet files written by other people's tools (../shared/fixtures/parquet: pyarrow with every codec,
// data page v2, DELTA_* and BYTE_STREAM_SPLIT encodings, polars, DuckDB, fastparquet), one test each,
// generated from expected.json. Each file must give the rows expected.json lists; the rows it sets aside
// (identical pairs, nulls) must be exactly those, found independently here from expected.json.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readPreferenceFile } from '../../src/data/index.ts';
import { readPreferenceFilePath } from '../../src/data/node-file.ts';
import { jsonl, memFile } from './helpers.ts';

const DIR = new URL('../../../shared/fixtures/parquet/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${DIR}expected.json`, 'utf8')) as Record<string, Record<string, unknown>[]>;

describe('parquet written by pyarrow, polars, DuckDB and fastparquet', () => {
  it('has the 16 fixtures', () => {
    expect(Object.keys(expected)).toHaveLength(16);
  });

  for (const [name, rows] of Object.entries(expected)) {
    it(name, async () => {
      const got = await readPreferenceFilePath(`${DIR}${name}`);
      expect(got.detected.container).toBe('parquet');
      expect(got.report.rowsRead).toBe(rows.length);

      // What the file should set aside, from expected.json alone.
      const nulls = rows.flatMap((r, i) => Object.entries(r).filter(([, v]) => v === null).map(([k]) => [i + 1, k, 'missing-field']));
      const identical = rows.flatMap((r, i) => (r.chosen !== null && isDeepStrictEqual(r.chosen, r.rejected) ? [[i + 1, 'chosen', 'identical-pair']] : []));
      const issues = got.report.issues.map((x) => [x.row, x.field, x.reason]);
      expect(issues).toEqual([...nulls, ...identical].sort((a, b) => (a[0] as number) - (b[0] as number)));
      expect(got.rows).toHaveLength(rows.length - nulls.length - identical.length);

      // The kept rows are exactly what the same records give when read as JSON Lines.
      const ref = await readPreferenceFile(memFile(name.replace(/\.parquet$/, '.jsonl'), jsonl(rows), 4096));
      expect(got.detected.format).toBe(ref.detected.format);
      expect(got.rows).toEqual(ref.rows);
      expect(got.rows.length).toBeGreaterThan(0);
    });
  }
});

describe('parquet reading by row group', () => {
  it('reads the first row group of a multi-group file without reading the rest', async () => {
    const { readParquet } = await import('../../src/data/parquet/reader.ts');
    const { openDataFile } = await import('../../src/data/node-file.ts');
    const src = await openDataFile(`${DIR}pyarrow-row-groups.parquet`);
    let read = 0;
    const counting = { ...src, read: async (o: number, n: number) => ((read += n), src.read(o, n)) };
    try {
      const it = readParquet(counting, 'pyarrow-row-groups.parquet');
      const first = await it.next();
      expect(first.value).toMatchObject({ kind: 'record', origin: { row: 1 } });
      // 120 rows in groups of 17: one group and the footer are well under half the file.
      expect(read).toBeLessThan(src.size / 2);
      let n = 1;
      for await (const item of it) if (item.kind === 'record') expect(item.origin.row).toBe(++n);
      expect(n).toBe(120);
    } finally {
      await src.close();
    }
  });
});
