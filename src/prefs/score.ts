// Sentence scores of candidates against the reference, exactly as sacreBLEU's sentence_score: chrF++ (chrF with
// word bigrams, sacreBLEU's CHRF(word_order=2)), chrF (CHRF()), and BLEU as sacrebleu.sentence_bleu (effective
// order on, exp smoothing). chrF and chrF++ of one sentence equal `cli score` on one-line files; sentence BLEU
// differs from corpus BLEU of one line only through the effective order (an n-gram order with no match).
import { sentenceBleu, sentenceChrf } from '../eval/index.ts';
import type { ParallelRow, PrefsMetric, ScoredCandidate } from './types.ts';

export function sentenceScore(hyp: string, ref: string, metric: PrefsMetric): number {
  switch (metric) {
    case 'chrf++':
      return sentenceChrf(hyp, [ref], { wordOrder: 2 }).score;
    case 'chrf':
      return sentenceChrf(hyp, [ref]).score;
    case 'bleu':
      return sentenceBleu(hyp, [ref]).score;
    default:
      throw new Error(`metric: expected one of chrf++, chrf, bleu, got ${JSON.stringify(metric)}`);
  }
}

export function parseMetric(raw: string): PrefsMetric {
  const m = raw.trim().toLowerCase().replace(/^chrf2/, 'chrf').replace(/^chrfpp$/, 'chrf++');
  if (m === 'chrf++' || m === 'chrf' || m === 'bleu') return m;
  throw new Error(`metric: expected chrf++, chrf or bleu, got ${JSON.stringify(raw)}`);
}

/**
 * The row's candidates in ALMA's order — the reference first, then the given systems (column order), then the
 * model's (sample order, or beam rank) — trimmed, empty ones left out, exact repeats merged into the first
 * occurrence (its `from` lists every origin), each scored against the reference.
 */
export function scoreCandidates(row: ParallelRow, modelTexts: readonly string[], metric: PrefsMetric): ScoredCandidate[] {
  const raw: [string, string][] = [
    [row.reference, 'reference'],
    ...row.systems.map((s): [string, string] => [s.text, `system:${s.name}`]),
    ...modelTexts.map((t, k): [string, string] => [t, `model:${k}`]),
  ];
  const byText = new Map<string, ScoredCandidate>();
  for (const [t, from] of raw) {
    const text = t.trim();
    if (text === '') continue;
    const seen = byText.get(text);
    if (seen) seen.from.push(from);
    else byText.set(text, { text, from: [from], score: sentenceScore(text, row.reference, metric) });
  }
  return [...byText.values()];
}
