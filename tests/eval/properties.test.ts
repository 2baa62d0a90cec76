// Invariants any sacreBLEU-compatible implementation has: a perfect hypothesis scores 100, and
// corpus scores depend only on summed statistics, so segment order does not matter.
import { describe, expect, it } from 'vitest';
import { corpusBleu, corpusChrf, scoreTranslations, sentenceBleu } from '../../src/eval/index.ts';
import { Rng } from '../../src/util/rng.ts';

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Producția de zahăr brut se exprimă în zahăr alb;',
  'Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.',
  '我们今天去公园散步，天气很好。',
  'Prices rose 3.5% to $1,200 in 2023-24 (see p. 5).',
  'Niemand hat die Absicht, eine Mauer zu errichten',
];

function shuffled<T>(xs: readonly T[], seed: number): number[] {
  const rng = new Rng(seed);
  const idx = xs.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

describe('identical hypothesis and reference', () => {
  it('scores 100 on every metric', () => {
    const s = scoreTranslations(SENTENCES, SENTENCES);
    expect(s.bleu.score).toBeCloseTo(100, 10);
    expect(s.chrf2.score).toBeCloseTo(100, 10);
    expect(s.chrfpp.score).toBeCloseTo(100, 10);
    expect(s.bleu.bp).toBe(1);
  });
  it('scores 100 when one of several references matches', () => {
    const other = SENTENCES.map((s) => s.split('').reverse().join(''));
    const s = scoreTranslations(SENTENCES, [other, SENTENCES]);
    expect(s.bleu.score).toBeCloseTo(100, 10);
    expect(s.chrf2.score).toBeCloseTo(100, 10);
    expect(s.chrfpp.score).toBeCloseTo(100, 10);
  });
});

describe('segment order', () => {
  const hyps = [
    'The fast brown fox jumped over a lazy dog.',
    'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;',
    'Lapali po dechu a pak jejich život skončil.',
    '我们今天去公园。',
    'Prices rose 3.5% to $1,200 in 2023.',
    'Niemand hat die Absicht',
  ];
  for (const seed of [1, 2, 3]) {
    it(`shuffle ${seed} leaves corpus scores unchanged`, () => {
      const order = shuffled(hyps, seed);
      const h2 = order.map((i) => hyps[i]);
      const r2 = order.map((i) => SENTENCES[i]);
      const a = corpusBleu(hyps, [SENTENCES]);
      const b = corpusBleu(h2, [r2]);
      expect(b.score).toBe(a.score);
      expect(b.counts).toEqual(a.counts);
      expect(corpusChrf(h2, [r2]).score).toBe(corpusChrf(hyps, [SENTENCES]).score);
      expect(corpusChrf(h2, [r2], { wordOrder: 2 }).score).toBe(corpusChrf(hyps, [SENTENCES], { wordOrder: 2 }).score);
    });
  }
});

describe('scoreTranslations', () => {
  it('accepts a flat reference list as one stream', () => {
    const flat = scoreTranslations(['a b c d'], ['a b c d']);
    const streams = scoreTranslations(['a b c d'], [['a b c d']]);
    expect(flat.bleu.score).toBe(streams.bleu.score);
    expect(flat.chrfpp.name).toBe('chrF2++');
  });
  it('Chinese under 13a: an unspaced run is a single token', () => {
    // Hand-derived: 13a does not segment CJK, so a sentence is one token. Corpus BLEU (no
    // effective order) of a one-token corpus is 0 even when identical; sentence BLEU is 100.
    const same = corpusBleu(['我们今天去公园'], [['我们今天去公园']]);
    expect(same.counts).toEqual([1, 0, 0, 0]);
    expect(same.totals).toEqual([1, 0, 0, 0]);
    expect(same.score).toBe(0);
    expect(sentenceBleu('我们今天去公园', ['我们今天去公园']).score).toBeCloseTo(100, 10);
    // One differing character fails the whole token.
    expect(corpusBleu(['我们今天去公园'], [['我们今天去公']]).counts).toEqual([0, 0, 0, 0]);
  });
});
