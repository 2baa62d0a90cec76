// chrF and chrF++, ported from sacreBLEU 2.x sacrebleu/metrics/chrf.py and helpers.py.
// Defaults are those of `CHRF()`: char order 6, word order 0 (2 gives chrF++), beta 2,
// whitespace removed before character n-grams, case-sensitive, effective-order averaging
// (eps_smoothing=False). Character n-grams are over code points, as Python slices strings.
import { codePoints, pyFixed, pyRemoveWhitespace, pySplit } from './pystr.ts';
import { collectReferences, COMMON_ABBR, formatSignature, type ReferenceStreams } from './references.ts';

export interface ChrfOptions {
  charOrder?: number;
  /** 0 for chrF, 2 for chrF++. */
  wordOrder?: number;
  beta?: number;
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. */
  whitespace?: boolean;
  /** chrF++.py / NLTK / Moses style averaging of per-order F-scores instead of effective order. */
  epsSmoothing?: boolean;
}

export interface ChrfResult {
  score: number;
  /** "chrF2", "chrF2++", ... as sacreBLEU names it. */
  name: string;
  charOrder: number;
  wordOrder: number;
  beta: number;
  /** Summed [hyp, ref, match] counts per order: char orders 1..charOrder, then word orders. */
  stats: number[];
  nrefs: number | 'var';
  signature: string;
  shortSignature: string;
}

interface Resolved {
  charOrder: number;
  wordOrder: number;
  beta: number;
  lowercase: boolean;
  whitespace: boolean;
  epsSmoothing: boolean;
}

function resolve(o: ChrfOptions): Resolved {
  return {
    charOrder: o.charOrder ?? 6,
    wordOrder: o.wordOrder ?? 0,
    beta: o.beta ?? 2,
    lowercase: o.lowercase ?? false,
    whitespace: o.whitespace ?? false,
    epsSmoothing: o.epsSmoothing ?? false,
  };
}

// string.punctuation, the set chrF++'s word splitter peels off word edges.
const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * chrF++'s primitive word tokenization (sacreBLEU CHRF._remove_punctuation): one punctuation
 * mark is split off the end of a word, else off its start; single characters are kept whole.
 * So '(hi)' gives '(hi' and ')' (sacreBLEU issue #124), kept for score compatibility.
 */
export function chrfWords(sent: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sent)) {
    const cps = codePoints(w);
    if (cps.length === 1) {
      out.push(w);
    } else if (PUNCTS.has(cps[cps.length - 1])) {
      out.push(cps.slice(0, -1).join(''), cps[cps.length - 1]);
    } else if (PUNCTS.has(cps[0])) {
      out.push(cps[0], cps.slice(1).join(''));
    } else {
      out.push(w);
    }
  }
  return out;
}

type Counter = Map<string, number>;

function count(items: Iterable<string>): Counter {
  const m: Counter = new Map();
  for (const it of items) m.set(it, (m.get(it) ?? 0) + 1);
  return m;
}

function charNgrams(line: string, maxOrder: number, whitespace: boolean): Counter[] {
  const cps = codePoints(whitespace ? line : pyRemoveWhitespace(line));
  const out: Counter[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const grams: string[] = [];
    for (let i = 0; i + n <= cps.length; i++) grams.push(cps.slice(i, i + n).join(''));
    out.push(count(grams));
  }
  return out;
}

function wordNgrams(words: readonly string[], n: number): Counter {
  const grams: string[] = [];
  for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join(' '));
  return count(grams);
}

function allNgrams(sent: string, r: Resolved): Counter[] {
  const grams = charNgrams(sent, r.charOrder, r.whitespace);
  if (r.wordOrder > 0) {
    const words = chrfWords(sent);
    for (let n = 1; n <= r.wordOrder; n++) grams.push(wordNgrams(words, n));
  }
  return grams;
}

function matchStats(hyp: Counter, ref: Counter): [number, number, number] {
  let match = 0;
  let hypCount = 0;
  for (const [ng, c] of hyp) {
    hypCount += c;
    const rc = ref.get(ng);
    if (rc !== undefined) match += Math.min(c, rc);
  }
  let refCount = 0;
  for (const c of ref.values()) refCount += c;
  // Hypothesis n-grams of an order the reference has none of are not counted (sacreBLEU does the same).
  return [ref.size > 0 ? hypCount : 0, refCount, match];
}

/** sacreBLEU CHRF._compute_f_score: the final score in [0, 100] from [hyp, ref, match] triples. */
export function chrfFromStats(stats: readonly number[], opts: ChrfOptions = {}): number {
  const r = resolve(opts);
  const order = r.charOrder + r.wordOrder;
  const eps = 1e-16;
  const factor = r.beta ** 2;
  let score = 0.0;
  let effectiveOrder = 0;
  let avgPrec = 0.0;
  let avgRec = 0.0;
  for (let i = 0; i < order; i++) {
    const nHyp = stats[3 * i];
    const nRef = stats[3 * i + 1];
    const nMatch = stats[3 * i + 2];
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder += 1;
    }
  }
  if (r.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) {
    avgPrec = avgRec = 0.0;
  } else {
    avgPrec /= effectiveOrder;
    avgRec /= effectiveOrder;
  }
  if (avgPrec + avgRec) {
    let s = (1 + factor) * avgPrec * avgRec;
    s /= factor * avgPrec + avgRec;
    return 100 * s;
  }
  return 0.0;
}

/** Segment statistics against the single best reference (highest sentence-level F), as sacreBLEU picks it. */
function segmentStats(hyp: string, refs: readonly string[], r: Resolved): number[] {
  const prep = (s: string) => (r.lowercase ? s.toLowerCase() : s);
  const hypGrams = allNgrams(prep(hyp), r);
  let best: number[] = [];
  let bestF = -1.0;
  for (const ref of refs) {
    const refGrams = allNgrams(prep(ref), r);
    const stats: number[] = [];
    hypGrams.forEach((h, o) => stats.push(...matchStats(h, refGrams[o])));
    const f = chrfFromStats(stats, r);
    if (f > bestF) {
      bestF = f;
      best = stats;
    }
  }
  return best;
}

function signatureOf(r: Resolved, nrefs: number | 'var', short: boolean): string {
  return formatSignature(
    [
      ['nrefs', nrefs],
      ['case', r.lowercase ? 'lc' : 'mixed'],
      ['eff', r.epsSmoothing ? 'no' : 'yes'],
      ['nc', r.charOrder],
      ['nw', r.wordOrder],
      ['space', r.whitespace ? 'yes' : 'no'],
    ],
    short,
    { ...COMMON_ABBR, case: 'c', eff: 'e', nc: 'nc', nw: 'nw', space: 's' },
  );
}

function scoreCorpus(hyps: readonly string[], refs: ReferenceStreams, r: Resolved): ChrfResult {
  const { segments, nrefs } = collectReferences(hyps.length, refs);
  const order = r.charOrder + r.wordOrder;
  const stats = new Array<number>(3 * order).fill(0);
  hyps.forEach((hyp, i) => {
    if (typeof hyp !== 'string') throw new Error(`Undefined line in hypotheses stream (segment ${i + 1}).`);
    segmentStats(hyp, segments[i], r).forEach((v, j) => (stats[j] += v));
  });
  return {
    score: chrfFromStats(stats, r),
    name: `chrF${r.beta}${'+'.repeat(r.wordOrder)}`,
    charOrder: r.charOrder,
    wordOrder: r.wordOrder,
    beta: r.beta,
    stats,
    nrefs,
    signature: signatureOf(r, nrefs, false),
    shortSignature: signatureOf(r, nrefs, true),
  };
}

/**
 * Corpus chrF as sacreBLEU's `CHRF(**opts).corpus_score(hyps, refs)`; `{ wordOrder: 2 }` gives chrF++.
 * `refs` are reference streams: refs[k][i] is the k-th reference of hypothesis i.
 */
export function corpusChrf(hyps: readonly string[], refs: ReferenceStreams, opts: ChrfOptions = {}): ChrfResult {
  return scoreCorpus(hyps, refs, resolve(opts));
}

/** Sentence chrF as sacreBLEU's `CHRF(**opts).sentence_score(hyp, refs)`. */
export function sentenceChrf(hyp: string, refs: readonly string[], opts: ChrfOptions = {}): ChrfResult {
  return scoreCorpus([hyp], refs.map((x) => [x]), resolve(opts));
}

/** sacreBLEU's text rendering: "chrF2|<sig> = 59.73". */
export function formatChrf(s: ChrfResult, opts: { width?: number; signature?: string } = {}): string {
  const name = opts.signature ? `${s.name}|${opts.signature}` : s.name;
  return `${name} = ${pyFixed(s.score, opts.width ?? 2)}`;
}
