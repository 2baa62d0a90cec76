// Translation-quality metrics matching sacreBLEU 2.x. Pure functions, safe in the browser.
import { corpusBleu, type BleuResult } from './bleu.ts';
import { corpusChrf, type ChrfResult } from './chrf.ts';
import type { ReferenceStreams } from './references.ts';

export { corpusBleu, sentenceBleu, computeBleu, formatBleu, SMOOTH_DEFAULTS, MAX_NGRAM_ORDER } from './bleu.ts';
export type { BleuOptions, BleuResult, BleuScore, SmoothMethod } from './bleu.ts';
export { corpusChrf, sentenceChrf, chrfFromStats, chrfWords, formatChrf } from './chrf.ts';
export type { ChrfOptions, ChrfResult } from './chrf.ts';
export { tokenize13a, tokenizeChar, getTokenizer } from './tokenizers.ts';
export type { BleuTokenizerName } from './tokenizers.ts';
export { SIGNATURE_VERSION } from './references.ts';
export type { ReferenceStreams } from './references.ts';

export interface TranslationScores {
  chrf2: ChrfResult;
  chrfpp: ChrfResult;
  bleu: BleuResult;
}

/**
 * chrF2, chrF++ and BLEU with sacreBLEU defaults. `refs` is either one reference per hypothesis
 * (string[]) or reference streams (string[][], refs[k][i] = k-th reference of hypothesis i).
 */
export function scoreTranslations(hyps: readonly string[], refs: readonly string[] | ReferenceStreams): TranslationScores {
  const streams: ReferenceStreams = refs.length > 0 && typeof refs[0] === 'string' ? [refs as readonly string[]] : (refs as ReferenceStreams);
  return {
    chrf2: corpusChrf(hyps, streams),
    chrfpp: corpusChrf(hyps, streams, { wordOrder: 2 }),
    bleu: corpusBleu(hyps, streams),
  };
}
