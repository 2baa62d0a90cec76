import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { readPreferenceFilePath } from '../../src/data/node-file.ts';

describe('demo dataset', () => {
  it('is small and every row is a usable translation triplet', async () => {
    const path = 'public/demo/wmt22-preference.jsonl';
    expect(statSync(path).size).toBeLessThan(300 * 1024);
    const r = await readPreferenceFilePath(path);
    expect(r.detected).toEqual({ container: 'jsonl', format: 'translation', gzip: false });
    expect(r.report.rowsRead).toBeGreaterThanOrEqual(200);
    expect(r.report.rowsUsable).toBe(r.report.rowsRead);
    expect(Object.keys(r.report.languagePairs).sort()).toEqual(['cs-en', 'de-en', 'en-de', 'zh-en']);
    expect(r.rows[0].kind === 'text' && r.rows[0].prompt).toMatch(/^Translate this from German to English:\nGerman: .+\nEnglish:$/);
  });

  it('a missing path is a clear error', async () => {
    await expect(readPreferenceFilePath('public/demo/nope.jsonl')).rejects.toThrow(/nope\.jsonl: cannot be opened/);
  });
});
