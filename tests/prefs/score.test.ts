// Candidate scores: sacreBLEU-exact sentence metrics, equal to `cli score` on the same strings; candidate order,
// trimming and merging of repeats.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { scoreCommand } from '../../src/cli/score.ts';
import { parseMetric, scoreCandidates, sentenceScore } from '../../src/prefs/score.ts';
import type { ParallelRow } from '../../src/prefs/types.ts';
import { readWmt22 } from './util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-prefs-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** chrF2, chrF++ and BLEU as `cli score` prints them for one hypothesis line and one reference line. */
async function cliScore(hyp: string, ref: string): Promise<{ chrf: number; 'chrf++': number; bleu: number }> {
  const h = join(dir, 'h.txt');
  const r = join(dir, 'r.txt');
  writeFileSync(h, `${hyp}\n`);
  writeFileSync(r, `${ref}\n`);
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    expect(await scoreCommand(['--hyp', h, '--ref', r, '--width', '12'])).toBe(0);
  } finally {
    spy.mockRestore();
  }
  const num = (l: string) => Number(/ = (-?[\d.]+)/.exec(l)![1]);
  return { chrf: num(out[0]), 'chrf++': num(out[1]), bleu: num(out[2]) };
}

describe('candidate scores', () => {
  it('equal `cli score` on the same strings (WMT22 system outputs against their references)', async () => {
    const rows = (await readWmt22('de-en', 6)).concat(await readWmt22('zh-en', 3));
    let bleuCompared = 0;
    for (const row of rows) {
      for (const s of row.systems) {
        const cli = await cliScore(s.text, row.reference);
        expect(sentenceScore(s.text, row.reference, 'chrf').toFixed(12)).toBe(cli.chrf.toFixed(12));
        expect(sentenceScore(s.text, row.reference, 'chrf++').toFixed(12)).toBe(cli['chrf++'].toFixed(12));
        // Sentence BLEU turns effective order on (sacrebleu.sentence_bleu); it equals the corpus BLEU of one line
        // whenever every n-gram order has a match, which the comparison checks.
        const bleu = sentenceScore(s.text, row.reference, 'bleu');
        if (cli.bleu > 0) {
          expect(bleu.toFixed(12)).toBe(cli.bleu.toFixed(12));
          bleuCompared++;
        } else expect(bleu).toBeGreaterThanOrEqual(0);
      }
    }
    expect(bleuCompared).toBeGreaterThan(10);
  });

  it('puts the reference first, then systems, then the model; trims, merges repeats, skips empties', () => {
    const row: ParallelRow = {
      index: 0,
      origin: { row: 0, line: 1 },
      src: 'de',
      tgt: 'en',
      source: 'Die Ware hat unter 20 Euro gekostet.',
      reference: 'The goods cost less than 20 euros.',
      systems: [
        { name: 'gpt4', text: 'The goods cost less than 20 euros.' },
        { name: 'madlad', text: 'The goods cost under 20 euros.' },
      ],
    };
    const cands = scoreCandidates(row, [' The goods cost under 20 euros. ', '', 'Goods were cheap.', 'The goods cost less than 20 euros.'], 'chrf++');
    expect(cands.map((c) => [c.text, c.from])).toEqual([
      ['The goods cost less than 20 euros.', ['reference', 'system:gpt4', 'model:3']],
      ['The goods cost under 20 euros.', ['system:madlad', 'model:0']],
      ['Goods were cheap.', ['model:2']],
    ]);
    expect(cands[0].score).toBe(100);
    expect(cands[1].score).toBe(sentenceScore('The goods cost under 20 euros.', row.reference, 'chrf++'));
    expect(cands[1].score).toBeGreaterThan(cands[2].score);
  });

  it('reads metric names and refuses others', () => {
    expect(parseMetric('chrF++')).toBe('chrf++');
    expect(parseMetric('chrf2')).toBe('chrf');
    expect(parseMetric('BLEU')).toBe('bleu');
    expect(() => parseMetric('comet')).toThrow(/chrf\+\+, chrf or bleu/);
  });
});
