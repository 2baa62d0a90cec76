// Corpus and sentence BLEU, ported from sacreBLEU 2.x sacrebleu/metrics/bleu.py so that scores,
// counts and the formatted line match it. Default settings are those of `BLEU()`:
// tokenizer 13a, max n-gram order 4, smoothing 'exp', no effective order, case-sensitive.
import { pyFixed, pyRstrip, pySplit } from './pystr.ts';
import { collectReferences, COMMON_ABBR, formatSignature, type ReferenceStreams } from './references.ts';
import { getTokenizer, type BleuTokenizerName } from './tokenizers.ts';

export type SmoothMethod = 'none' | 'floor' | 'add-k' | 'exp';

/** sacreBLEU's BLEU.SMOOTH_DEFAULTS (Chen & Cherry 2014 values for floor and add-k). */
export const SMOOTH_DEFAULTS: Readonly<Record<SmoothMethod, number | null>> = {
  none: null,
  floor: 0.1,
  'add-k': 1,
  exp: null,
};

export const MAX_NGRAM_ORDER = 4;

export interface BleuOptions {
  lowercase?: boolean;
  tokenize?: BleuTokenizerName;
  smoothMethod?: SmoothMethod;
  /** For 'floor' and 'add-k'; null/undefined takes SMOOTH_DEFAULTS. */
  smoothValue?: number | null;
  maxNgramOrder?: number;
  effectiveOrder?: boolean;
}

export interface BleuScore {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
  /** sys_len / ref_len, 0 when ref_len is 0 (as BLEUScore.ratio). */
  ratio: number;
}

export interface BleuResult extends BleuScore {
  nrefs: number | 'var';
  /** e.g. "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x-ts" */
  signature: string;
  /** The same with sacreBLEU's short keys: "#:1|c:mixed|e:no|tok:13a|s:exp|v:2.x-ts" */
  shortSignature: string;
}

interface Resolved {
  lowercase: boolean;
  tokenizer: (line: string) => string;
  tokenizerName: BleuTokenizerName;
  smoothMethod: SmoothMethod;
  smoothValue: number | null;
  maxOrder: number;
  effectiveOrder: boolean;
}

function resolve(opts: BleuOptions, defaultEffective: boolean): Resolved {
  const smoothMethod = opts.smoothMethod ?? 'exp';
  if (!(smoothMethod in SMOOTH_DEFAULTS)) throw new Error(`Unknown smooth_method '${smoothMethod}'`);
  const tokenizerName = opts.tokenize ?? '13a';
  return {
    lowercase: opts.lowercase ?? false,
    tokenizer: getTokenizer(tokenizerName),
    tokenizerName,
    smoothMethod,
    smoothValue: opts.smoothValue ?? null,
    maxOrder: opts.maxNgramOrder ?? MAX_NGRAM_ORDER,
    effectiveOrder: opts.effectiveOrder ?? defaultEffective,
  };
}

// sacrebleu.utils.my_log: a floor instead of -Infinity so that a zero precision gives exp(-huge) = 0.
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * BLEU from sufficient statistics: sacreBLEU's `BLEU.compute_bleu`, including its early
 * return of 0 when nothing matched (#141). Note its default smoothing here is 'none', as there.
 */
export function computeBleu(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  opts: { smoothMethod?: SmoothMethod; smoothValue?: number | null; effectiveOrder?: boolean; maxNgramOrder?: number } = {},
): BleuScore {
  const smoothMethod = opts.smoothMethod ?? 'none';
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0;
  const maxOrder = opts.maxNgramOrder ?? MAX_NGRAM_ORDER;
  const counts = correct.slice(0, maxOrder);
  const totals = total.slice(0, maxOrder);

  let bp: number;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;
  else bp = 1.0;

  const precisions = new Array<number>(maxOrder).fill(0);
  const mk = (score: number): BleuScore => ({
    score, counts, totals, precisions, bp, sys_len: sysLen, ref_len: refLen, ratio: refLen ? sysLen / refLen : 0,
  });

  if (!counts.some((c) => c !== 0)) return mk(0.0);

  let smoothMteval = 1.0;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (smoothMethod === 'add-k' && n > 1) {
      counts[n - 1] += smoothValue;
      totals[n - 1] += smoothValue;
    }
    if (totals[n - 1] === 0) break;
    // Effective order: stop at the highest order the hypotheses actually have n-grams for.
    if (opts.effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (smoothMethod === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]);
      } else if (smoothMethod === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / totals[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * counts[n - 1]) / totals[n - 1];
    }
  }

  let logSum = 0;
  for (const p of precisions.slice(0, effOrder)) logSum += myLog(p);
  return mk(bp * Math.exp(logSum / effOrder));
}

/** Per-order n-gram counts of a whitespace-tokenized line, and its token count. */
function wordNgrams(line: string, maxOrder: number): { ngrams: Map<string, number>[]; len: number } {
  const tokens = pySplit(line);
  const ngrams: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      // Tokens never contain whitespace, so ' ' is an unambiguous joiner.
      const key = tokens.slice(i, i + n).join(' ');
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    ngrams.push(m);
  }
  return { ngrams, len: tokens.length };
}

/** Closest reference length; ties go to the shorter reference. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const refLen of refLens) {
    const diff = Math.abs(hypLen - refLen);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = refLen;
    } else if (diff === closestDiff && refLen < closestLen) {
      closestLen = refLen;
    }
  }
  return closestLen;
}

/** [hyp_len, ref_len, correct_1..N, total_1..N] for one segment, as sacreBLEU's segment stats. */
function segmentStats(hyp: string, refs: readonly string[], r: Resolved): number[] {
  const prep = (s: string) => r.tokenizer(pyRstrip(r.lowercase ? s.toLowerCase() : s));
  // Clip counts: the max count of each n-gram over all references.
  const refMax: Map<string, number>[] = Array.from({ length: r.maxOrder }, () => new Map());
  const refLens: number[] = [];
  for (const ref of refs) {
    const { ngrams, len } = wordNgrams(prep(ref), r.maxOrder);
    refLens.push(len);
    ngrams.forEach((m, o) => {
      for (const [k, c] of m) if (c > (refMax[o].get(k) ?? 0)) refMax[o].set(k, c);
    });
  }
  const { ngrams, len: hypLen } = wordNgrams(prep(hyp), r.maxOrder);
  const correct = new Array<number>(r.maxOrder).fill(0);
  const total = new Array<number>(r.maxOrder).fill(0);
  ngrams.forEach((m, o) => {
    for (const [k, c] of m) {
      total[o] += c;
      const rc = refMax[o].get(k);
      if (rc !== undefined) correct[o] += Math.min(c, rc);
    }
  });
  return [hypLen, closestRefLen(hypLen, refLens), ...correct, ...total];
}

function signatureOf(r: Resolved, nrefs: number | 'var', short: boolean): string {
  const smoothDefault = SMOOTH_DEFAULTS[r.smoothMethod];
  const smooth = smoothDefault === null ? r.smoothMethod : `${r.smoothMethod}[${pyFixed(r.smoothValue ?? smoothDefault, 2)}]`;
  return formatSignature(
    [
      ['nrefs', nrefs],
      ['case', r.lowercase ? 'lc' : 'mixed'],
      ['eff', r.effectiveOrder ? 'yes' : 'no'],
      ['tok', r.tokenizerName],
      ['smooth', smooth],
    ],
    short,
    { ...COMMON_ABBR, case: 'c', eff: 'e', tok: 'tok', smooth: 's' },
  );
}

function scoreCorpus(hyps: readonly string[], refs: ReferenceStreams, r: Resolved): BleuResult {
  const { segments, nrefs } = collectReferences(hyps.length, refs);
  const sums = new Array<number>(2 + 2 * r.maxOrder).fill(0);
  hyps.forEach((hyp, i) => {
    if (typeof hyp !== 'string') throw new Error(`Undefined line in hypotheses stream (segment ${i + 1}).`);
    segmentStats(hyp, segments[i], r).forEach((v, j) => (sums[j] += v));
  });
  const score = computeBleu(sums.slice(2, 2 + r.maxOrder), sums.slice(2 + r.maxOrder), sums[0], sums[1], {
    smoothMethod: r.smoothMethod,
    smoothValue: r.smoothValue,
    effectiveOrder: r.effectiveOrder,
    maxNgramOrder: r.maxOrder,
  });
  return { ...score, nrefs, signature: signatureOf(r, nrefs, false), shortSignature: signatureOf(r, nrefs, true) };
}

/**
 * Corpus BLEU as sacreBLEU's `BLEU(**opts).corpus_score(hyps, refs)`.
 * `refs` are reference streams: refs[k][i] is the k-th reference of hypothesis i.
 */
export function corpusBleu(hyps: readonly string[], refs: ReferenceStreams, opts: BleuOptions = {}): BleuResult {
  return scoreCorpus(hyps, refs, resolve(opts, false));
}

/**
 * Sentence BLEU as sacreBLEU's `sentence_bleu(hyp, refs)`, which turns effective order on
 * (a single short sentence otherwise scores 0 whenever it lacks 4-grams).
 */
export function sentenceBleu(hyp: string, refs: readonly string[], opts: BleuOptions = {}): BleuResult {
  return scoreCorpus([hyp], refs.map((r) => [r]), resolve(opts, true));
}

/** sacreBLEU's text rendering: "BLEU|<sig> = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)". */
export function formatBleu(s: BleuScore, opts: { width?: number; signature?: string } = {}): string {
  const width = opts.width ?? 2;
  const name = opts.signature ? `BLEU|${opts.signature}` : 'BLEU';
  const prec = s.precisions.map((p) => pyFixed(p, 1)).join('/');
  return (
    `${name} = ${pyFixed(s.score, width)} ${prec} (BP = ${pyFixed(s.bp, 3)} ratio = ${pyFixed(s.ratio, 3)} ` +
    `hyp_len = ${s.sys_len} ref_len = ${s.ref_len})`
  );
}
