// Sentence BLEU against mjpost/sacrebleu test/test_sentence_bleu.py (commit ad62c9b5),
// EPSILON = 1e-3 there. Those cases run with effective order on, which is also our default.
import { describe, expect, it } from 'vitest';
import { sentenceBleu, type SmoothMethod, type BleuTokenizerName } from '../../src/eval/index.ts';

const EPSILON = 1e-3;

// Example from sacreBLEU issue #98 (Romanian, with ţ/ț and ă).
const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';

// The 'intl' tokenizer case of the upstream table is not ported (only 13a, none and char are).
const cases: Array<[SmoothMethod, number | null, boolean, BleuTokenizerName, number]> = [
  ['exp', null, false, '13a', 8.493],
  ['none', null, false, '13a', 0.0],
  ['floor', null, false, '13a', 4.51688],
  ['floor', 0.1, false, '13a', 4.51688],
  ['floor', 0.5, false, '13a', 10.1],
  ['add-k', null, false, '13a', 14.882],
  ['add-k', 1, false, '13a', 14.882],
  ['add-k', 2, false, '13a', 21.389],
  ['exp', null, false, 'none', 7.347],
  ['exp', null, false, 'char', 40.8759],
  ['exp', null, true, 'char', 42.0267],
];

describe('test_sentence_bleu.py: test_api_sentence_bleu', () => {
  for (const [smoothMethod, smoothValue, lowercase, tokenize, expected] of cases) {
    it(`${smoothMethod}/${smoothValue}/lc=${lowercase}/${tokenize}`, () => {
      const s = sentenceBleu(SYS, [REF], { smoothMethod, smoothValue, lowercase, tokenize });
      expect(Math.abs(s.score - expected)).toBeLessThan(EPSILON);
    });
  }
});

describe('test_sentence_bleu.py: test_api_sentence_bleu_zero (#141)', () => {
  const zero: Array<[SmoothMethod, number | null]> = [
    ['exp', null],
    ['none', null],
    ['floor', null],
    ['floor', 0.1],
    ['add-k', null],
    ['add-k', 1],
  ];
  for (const [smoothMethod, smoothValue] of zero) {
    it(`${smoothMethod}/${smoothValue}`, () => {
      expect(sentenceBleu('this is a cat', ['okay thanks'], { smoothMethod, smoothValue }).score).toBe(0);
    });
  }
});

describe('sentence BLEU defaults', () => {
  it('uses effective order, as sacrebleu.sentence_bleu does', () => {
    const s = sentenceBleu('a test', ['a test']);
    expect(s.score).toBeCloseTo(100, 10);
    expect(s.signature).toMatch(/\|eff:yes\|/);
  });
});
