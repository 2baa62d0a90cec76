// Hub datasets by id against the local Hub-shaped server: the refs/convert/parquet tree lists configs, splits
// and shards; shards download into the store (Node: the Python HF cache) with progress and are read as one
// dataset, rows numbered and duplicates found across shards.
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hfCacheStore } from '../../src/io/hf-cache.ts';
import { chooseSplit, listHubParquet, parseHfDatasetSpec, readHubDataset } from '../../src/io/hub-datasets.ts';
import { readPreferenceData } from '../../src/io/node-data.ts';
import { writeParquet, type ColumnSpec } from '../data/parquet-writer.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';
import { rejects } from './helpers.ts';

const FIX = new URL('../../../shared/fixtures/parquet/', import.meta.url).pathname;
const fixture = (n: string) => new Uint8Array(readFileSync(FIX + n));

// The ALMA-R-Preference layout: one config per direction, a `translation` struct per row.
const almaCols: ColumnSpec[] = [
  {
    name: 'translation',
    type: 'struct',
    fields: [
      ...['de', 'en', 'gpt4_en', 'alma_en', 'language_pair', 'required_directions'].map((name) => ({ name, type: 'string' as const })),
      ...['ref_en_kiwi_xcomet', 'gpt4_en_kiwi_xcomet', 'alma_en_kiwi_xcomet', 'Delta'].map((name) => ({ name, type: 'double' as const })),
    ],
  },
];
const almaRows = Array.from({ length: 6 }, (_, i) => ({
  translation: {
    de: `Satz ${i}.`, en: `Sentence ${i}.`, gpt4_en: `The sentence ${i}.`, alma_en: `Sentence number ${i}.`, language_pair: 'de-en', required_directions: 'de-en',
    ref_en_kiwi_xcomet: 0.9, gpt4_en_kiwi_xcomet: 0.8, alma_en_kiwi_xcomet: 0.7, Delta: 0,
  },
}));

let hub: FakeHub;
let tmp: string;
beforeAll(async () => {
  hub = await startFakeHub({
    'trl-lib/ultrafeedback_binarized': {
      type: 'dataset',
      revisions: {
        main: { 'README.md': '# data', 'data/train-00000-of-00001.parquet': fixture('pyarrow-snappy.parquet') },
        'refs/convert/parquet': {
          'default/train/0000.parquet': fixture('pyarrow-zstd.parquet'),
          // The same 120 rows again in a second shard, written by polars: every one a duplicate across shards.
          'default/train/0001.parquet': fixture('polars-default.parquet'),
          'default/test/0000.parquet': fixture('pyarrow-nulls.parquet'),
        },
      },
    },
    'haoranxu/ALMA-R-Preference': {
      type: 'dataset',
      revisions: {
        'refs/convert/parquet': {
          'de-en/train/0000.parquet': writeParquet(almaCols, almaRows, { codec: 'snappy' }),
          'cs-en/partial-train/0000.parquet': writeParquet(almaCols, almaRows.slice(0, 2), { codec: 'gzip' }),
        },
      },
    },
  });
  tmp = mkdtempSync(join(tmpdir(), 'hub-ds-'));
});
afterAll(async () => {
  await hub.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('Hub datasets', () => {
  it('parses hf://datasets/OWNER/NAME[/CONFIG/SPLIT]', () => {
    expect(parseHfDatasetSpec('hf://datasets/trl-lib/ultrafeedback_binarized')).toEqual({ repo: 'trl-lib/ultrafeedback_binarized', config: undefined, split: undefined });
    expect(parseHfDatasetSpec('hf://datasets/haoranxu/ALMA-R-Preference/de-en/train')).toEqual({ repo: 'haoranxu/ALMA-R-Preference', config: 'de-en', split: 'train' });
    expect(parseHfDatasetSpec('data/pairs.jsonl')).toBeNull();
    expect(() => parseHfDatasetSpec('hf://datasets/only-owner')).toThrow(/hf:\/\/datasets\/OWNER\/NAME/);
    expect(() => parseHfDatasetSpec('hf://datasets/o/n/config')).toThrow(/CONFIG\/SPLIT/);
    expect(() => parseHfDatasetSpec('hf://models/o/n')).toThrow(/a Hub dataset is written/);
  });

  it('lists configs, splits and shards from the refs/convert/parquet tree, and picks default/train', async () => {
    const l = await listHubParquet('haoranxu/ALMA-R-Preference', { hubUrl: hub.url, cache: null });
    expect(l.commit).toBe(hub.commitOf('haoranxu/ALMA-R-Preference', 'refs/convert/parquet', 'dataset'));
    expect(l.splits.map((s) => [s.config, s.split, s.partial, s.shards.length])).toEqual([
      ['de-en', 'train', false, 1],
      ['cs-en', 'train', true, 1],
    ]);
    expect(() => chooseSplit(l, { repo: 'haoranxu/ALMA-R-Preference' })).toThrow(/several configs; name one as hf:\/\/datasets\/haoranxu\/ALMA-R-Preference\/CONFIG\/SPLIT \(de-en\/train, cs-en\/train\)/);
    expect(() => chooseSplit(l, { repo: 'haoranxu/ALMA-R-Preference', config: 'de-en', split: 'test' })).toThrow(/no split "test" in config de-en/);
    const u = await listHubParquet('trl-lib/ultrafeedback_binarized', { hubUrl: hub.url, cache: null });
    expect(chooseSplit(u, { repo: 'trl-lib/ultrafeedback_binarized' }).shards.map((s) => s.file)).toEqual(['default/train/0000.parquet', 'default/train/0001.parquet']);
  });

  it('reads a split across its shards into the Python HF cache, with progress, and the second time from the cache', async () => {
    const store = hfCacheStore(join(tmp, 'hub'));
    const overall: [number, number | null][] = [];
    const before = hub.requests.length;
    const r = await readHubDataset('hf://datasets/trl-lib/ultrafeedback_binarized', { hubUrl: hub.url, store, onOverall: (l, t) => overall.push([l, t]) });
    expect(r.hub.name).toBe('hf://datasets/trl-lib/ultrafeedback_binarized/default/train');
    expect(r.report.file).toBe(r.hub.name);
    expect(r.hub.commit).toBe(hub.commitOf('trl-lib/ultrafeedback_binarized', 'refs/convert/parquet', 'dataset'));
    expect(r.report.rowsRead).toBe(240);
    expect(r.rows).toHaveLength(116); // 120 minus the 4 identical pairs; the second shard repeats the first
    const byReason = (reason: string) => r.report.issues.filter((i) => i.reason === reason).map((i) => i.row);
    expect(byReason('identical-pair').length).toBe(8);
    expect(byReason('duplicate-pair')).toEqual(Array.from({ length: 120 }, (_, i) => 121 + i).filter((row) => !byReason('identical-pair').includes(row)));
    const total = overall.at(-1)![1]!;
    expect(overall.at(-1)).toEqual([total, total]);
    expect(total).toBe(fixture('pyarrow-zstd.parquet').length + fixture('polars-default.parquet').length);
    const reqs = hub.requests.slice(before).map((q) => q.path);
    expect(reqs[0]).toBe('/api/datasets/trl-lib/ultrafeedback_binarized/revision/refs%2Fconvert%2Fparquet?blobs=true');
    expect(reqs.filter((p) => p.includes('/resolve/')).map((p) => p.split('/resolve/')[1].slice(41))).toEqual(['default/train/0000.parquet', 'default/train/0001.parquet']);

    const n = hub.requests.length;
    const again = await readHubDataset('hf://datasets/trl-lib/ultrafeedback_binarized/default/train', { hubUrl: hub.url, store });
    expect(again.rows).toEqual(r.rows);
    expect(hub.requests.slice(n).filter((q) => !q.path.startsWith('/api/'))).toEqual([]);

    const test = await readHubDataset('hf://datasets/trl-lib/ultrafeedback_binarized/default/test', { hubUrl: hub.url, store });
    expect(test.report.issues.map((i) => [i.row, i.field, i.reason])).toEqual([
      [1, 'chosen', 'identical-pair'],
      [4, 'chosen', 'missing-field'],
      [7, 'rejected', 'missing-field'],
    ]);
  });

  it('reads ALMA-R-Preference by config, warns about a partial conversion, and goes through --data as the CLI takes it', async () => {
    const env = { HF_HOME: join(tmp, 'home'), HF_ENDPOINT: hub.url };
    const r = await readPreferenceData('hf://datasets/haoranxu/ALMA-R-Preference/de-en/train', {}, { env });
    expect(r.detected.format).toBe('alma-r');
    expect(r.rows.map((x) => (x.kind === 'text' ? [x.chosen, x.rejected] : null))).toEqual(almaRows.map((a) => [a.translation.en, a.translation.alma_en]));
    const p = await readPreferenceData('hf://datasets/haoranxu/ALMA-R-Preference/cs-en/train', {}, { env });
    expect(p.report.warnings.join('\n')).toMatch(/converted only the first part of this split/);
    expect(await rejects(readPreferenceData('hf://datasets/haoranxu/ALMA-R-Preference', {}, { env }))).toMatch(/several configs/);
    expect(await rejects(readPreferenceData('hf://datasets/nobody/nothing', {}, { env }))).toMatch(/dataset nobody\/nothing@refs\/convert\/parquet: not found \(HTTP 404: Repository not found; check the id\)/);
  });
});
