// The resumable builder with a stand-in candidate source: identical output for identical settings, a paused and
// resumed build equal to an uninterrupted one (in memory and in a folder), refused resumes, stats, and an output
// the data layer reads as TRL rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPreferenceFile } from '../../src/data/index.ts';
import { PrefsBuilder, type BuildSettings } from '../../src/prefs/builder.ts';
import { DEFAULT_CANDIDATES } from '../../src/prefs/candidates.ts';
import { FolderPrefsStore } from '../../src/prefs/node-store.ts';
import { toJsonl } from '../../src/prefs/output.ts';
import { MemoryPrefsStore, type PrefsStore } from '../../src/prefs/store.ts';
import { memFile } from '../data/helpers.ts';
import { fakeSource, readWmt22 } from './util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-prefs-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SETTINGS: BuildSettings = {
  metric: 'chrf++',
  select: { rule: 'worst', margin: 1, includeReference: false, seed: 3 },
  candidates: { ...DEFAULT_CANDIDATES, n: 4 },
  batchSize: 3,
};

async function build(store: PrefsStore, settings = SETTINGS, key = 'b') {
  const rows = await readWmt22('de-en', 11);
  const b = new PrefsBuilder(rows, fakeSource(4), settings, store, key, 'fake');
  await b.resume();
  expect(await b.run()).toBe('done');
  return b;
}

describe('PrefsBuilder', () => {
  it('gives identical output for identical settings, and other output for another seed', async () => {
    const a = await build(new MemoryPrefsStore());
    const b = await build(new MemoryPrefsStore());
    expect(toJsonl(a.records, 'chrf++')).toBe(toJsonl(b.records, 'chrf++'));
    const other = await build(new MemoryPrefsStore(), { ...SETTINGS, select: { ...SETTINGS.select, rule: 'random-lower', seed: 4 } });
    expect(toJsonl(other.records, 'chrf++')).not.toBe(toJsonl(a.records, 'chrf++'));
    expect(a.stats).toMatchObject({ rows: 11, modelCandidates: 44 });
    expect(a.stats.pairs + a.stats.droppedMargin + a.stats.droppedTooFew).toBe(11);
    expect(a.stats.pairs).toBeGreaterThan(5);
  });

  for (const kind of ['memory', 'folder'] as const) {
    it(`pauses and resumes where it stopped, to the output of an uninterrupted build (${kind} store)`, async () => {
      const whole = await build(new MemoryPrefsStore());
      const store = kind === 'memory' ? new MemoryPrefsStore() : new FolderPrefsStore(join(dir, 'state'));
      const rows = await readWmt22('de-en', 11);
      const src1 = fakeSource(4);
      const first = new PrefsBuilder(rows, src1, SETTINGS, store, 'run1', 'fake');
      expect(await first.resume()).toBe(false);
      const seen: number[] = [];
      const status = await first.run((p) => {
        seen.push(p.done);
        expect(p.etaMs).toBeGreaterThanOrEqual(0);
        if (p.done === 6) first.pause();
      });
      expect(status).toBe('paused');
      expect(seen).toEqual([3, 6]);
      // A new process: everything it knows comes from the store.
      const src2 = fakeSource(4);
      const second = new PrefsBuilder(rows, src2, SETTINGS, store, 'run1', 'fake');
      expect(await second.resume()).toBe(true);
      expect(second.done).toBe(6);
      expect(await second.run()).toBe('done');
      expect(src1.calls).toEqual([0, 1]);
      expect(src2.calls).toEqual([2, 3]);
      expect(toJsonl(second.records, 'chrf++')).toBe(toJsonl(whole.records, 'chrf++'));
      expect({ ...second.stats, elapsedMs: 0 }).toEqual({ ...whole.stats, elapsedMs: 0 });
    });
  }

  it('refuses to resume saved progress of other settings, model or data, until reset', async () => {
    const store = new MemoryPrefsStore();
    await build(store);
    const rows = await readWmt22('de-en', 11);
    const other = new PrefsBuilder(rows, fakeSource(4), { ...SETTINGS, metric: 'bleu' }, store, 'b', 'fake');
    await expect(other.resume()).rejects.toThrow(/saved build "b" was made with other settings, model or data \(4 batches done\)/);
    await expect(new PrefsBuilder(rows, fakeSource(4), SETTINGS, store, 'b', 'another model').resume()).rejects.toThrow(/other settings, model or data/);
    await expect(new PrefsBuilder(rows.slice(1), fakeSource(4), SETTINGS, store, 'b', 'fake').resume()).rejects.toThrow(/other settings, model or data/);
    await other.reset();
    expect(await other.resume()).toBe(false);
    expect(() => new PrefsBuilder(rows, fakeSource(4), { ...SETTINGS, batchSize: 0 }, store, 'b', 'fake')).toThrow(/batch: must be a positive integer/);
  });

  it('writes TRL rows with the ALMA prompt and the scores, which the data layer reads as they are', async () => {
    const b = await build(new MemoryPrefsStore());
    const text = toJsonl(b.records, 'chrf++');
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(b.stats.pairs);
    const kept = b.records.filter((r) => r.selection.kind === 'pair');
    lines.forEach((l, i) => {
      const r = kept[i];
      expect(l.prompt).toBe(`Translate this from German to English:\nGerman: ${r.source}\nEnglish:`);
      expect(l.chosen_score - l.rejected_score).toBeGreaterThanOrEqual(1);
      expect(l.candidates.find((c: { text: string }) => c.text === l.chosen).score).toBe(l.chosen_score);
      expect(Math.max(...l.candidates.filter((c: { from: string[] }) => c.from.some((f) => f !== 'reference')).map((c: { score: number }) => c.score))).toBe(l.chosen_score);
      expect(l).toMatchObject({ lp: 'de-en', metric: 'chrf++', id: r.id });
    });
    const read = await readPreferenceFile(memFile('prefs.jsonl', text));
    expect(read.detected.format).toBe('trl');
    expect(read.report.issues).toEqual([]);
    expect(read.rows.map((r) => r.kind === 'text' && [r.prompt, r.chosen, r.rejected])).toEqual(lines.map((l) => [l.prompt, l.chosen, l.rejected]));
  });
});
