// Corpus BLEU against the expectations published in sacreBLEU's own tests and README:
//   mjpost/sacrebleu test/test_bleu.py (commit 785d26bb), EPSILON = 1e-8 there,
//   mjpost/sacrebleu README.md "Using SacreBLEU from Python" (commit 078c4401).
// sacreBLEU's `raw_corpus_bleu(h, r, v)` is corpus_bleu with smooth 'floor' (value v, default 0.1),
// tokenize 'none' and effective order on (sacrebleu/compat.py); rawCorpusBleu below mirrors it.
// Most upstream cases pass v = .01 explicitly; the offset case also checks the 0.1 default.
import { describe, expect, it } from 'vitest';
import { computeBleu, corpusBleu, formatBleu, type BleuResult } from '../../src/eval/index.ts';

const EPSILON = 1e-8;

function rawCorpusBleu(hyps: string[], refs: string[][], smoothValue: number | null = 0.1): BleuResult {
  return corpusBleu(hyps, refs, { smoothMethod: 'floor', smoothValue, tokenize: 'none', effectiveOrder: true });
}

// README / test_bleu.py example: two reference streams.
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];

describe('test_bleu.py: test_corpus_bleu', () => {
  const cases: Array<[string, string[], Parameters<typeof corpusBleu>[2], number]> = [
    ['default settings (multi-reference)', HYPS, {}, 48.530827],
    ['empty hypotheses are not removed', ['', '', ''], {}, 0.0],
    ['tokenize none', HYPS, { tokenize: 'none' }, 49.1919566],
    ['tokenize 13a', HYPS, { tokenize: '13a' }, 48.530827],
    ['smooth none', HYPS, { smoothMethod: 'none' }, 48.530827],
  ];
  for (const [what, hyps, opts, expected] of cases) {
    it(what, () => {
      expect(Math.abs(corpusBleu(hyps, REFS, opts).score - expected)).toBeLessThan(EPSILON);
    });
  }
});

describe('test_bleu.py: raw_corpus_bleu cases', () => {
  it('no matches returns 0 (#141)', () => {
    expect(rawCorpusBleu(['this is a test', 'another test'], [['ref1', 'ref2']], 0.01).score / 100).toBe(0);
  });
  it('identical', () => {
    expect(Math.abs(rawCorpusBleu(['this is a test'], [['this is a test']], 0.01).score / 100 - 1.0)).toBeLessThan(EPSILON);
  });
  it('one word off', () => {
    const s = rawCorpusBleu(['this is a fest'], [['this is a test']], 0.01).score / 100;
    expect(Math.abs(s - 0.223606797749979)).toBeLessThan(EPSILON);
  });
  const effective: Array<[string, string, number]> = [
    ['test', 'a test', 0.3678794411714425],
    ['a test', 'a test', 1.0],
    ['a little test', 'a test', 0.03218297948685433],
  ];
  for (const [hyp, ref, expected] of effective) {
    it(`effective order: ${hyp} / ${ref}`, () => {
      expect(Math.abs(rawCorpusBleu([hyp], [[ref]], 0.01).score / 100 - expected)).toBeLessThan(EPSILON);
    });
  }
  it('statistics (counts and totals)', () => {
    const r = rawCorpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], 0.01);
    expect(r.counts).toEqual([4, 2, 1, 0]);
    expect(r.totals).toEqual([6, 5, 4, 3]);
  });
  it('offset: smooth value 0 gives 0, default floor 0.1 gives 0.1555722182', () => {
    const hyp = ['am I am a character sequence'];
    const ref = [['I am a symbol string sequence a a']];
    expect(Math.abs(rawCorpusBleu(hyp, ref, 0.0).score / 100 - 0)).toBeLessThan(EPSILON);
    expect(Math.abs(rawCorpusBleu(hyp, ref, null).score / 100 - 0.1555722182)).toBeLessThan(EPSILON);
    expect(Math.abs(rawCorpusBleu(hyp, ref).score / 100 - 0.1555722182)).toBeLessThan(EPSILON);
  });
});

describe('test_bleu.py: compute_bleu from statistics', () => {
  it('test_scoring (default smoothing of compute_bleu is none)', () => {
    const s = computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100;
    expect(Math.abs(s - 0.8375922397)).toBeLessThan(EPSILON);
  });
  const degenerate: Array<[number[], number[], number, number, number]> = [
    [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0],
    [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0],
    [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
    [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
  ];
  for (const [common, total, sysLen, refLen, offset] of degenerate) {
    it(`degenerate ${JSON.stringify([common, total, sysLen, refLen, offset])} is exactly 0`, () => {
      const s = computeBleu(common, total, sysLen, refLen, { smoothMethod: 'floor', smoothValue: offset }).score / 100;
      expect(s).toBe(0.0);
    });
  }
});

describe('test_bleu.py: test_max_ngram_order', () => {
  const expected: Array<[number, string]> = [
    [1, '77.65'],
    [2, '60.50'],
    [3, '53.93'],
    [4, '48.53'],
    [5, '46.14'],
    [6, '43.28'],
  ];
  for (const [order, want] of expected) {
    it(`order ${order}`, () => {
      expect(corpusBleu(HYPS, REFS, { maxNgramOrder: order }).score.toFixed(2)).toBe(want);
    });
  }
});

describe('README.md examples', () => {
  it('multi-reference BLEU line and signature', () => {
    const r = corpusBleu(HYPS, REFS);
    expect(formatBleu(r)).toBe('BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)');
    // README shows "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0"; only the version differs.
    expect(r.signature.replace(/version:.*$/, '')).toBe('nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|');
    expect(r.shortSignature.replace(/v:.*$/, '')).toBe('#:2|c:mixed|e:no|tok:13a|s:exp|');
  });
  it('variable number of references (empty string drops a reference)', () => {
    const refs = [['', ...REFS[0].slice(1)], REFS[1]];
    const r = corpusBleu(HYPS, refs);
    expect(formatBleu(r)).toBe('BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)');
    expect(r.signature.startsWith('nrefs:var|')).toBe(true);
  });
});

describe('input checks', () => {
  it('reference stream length must match', () => {
    expect(() => corpusBleu(['a', 'b'], [['a']])).toThrow(/1 segments but there are 2 hypotheses/);
  });
  it('a segment with no reference at all is an error, as in sacreBLEU', () => {
    expect(() => corpusBleu(['a'], [['']])).toThrow(/segment 1/);
  });
});
