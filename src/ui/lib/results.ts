// A run's end-of-run numbers, read from its eval metrics by the names the engine gives them: the eval loss
// and reward accuracy on the held-out split (eval_*), and the generation check's chrF2 / chrF++ / BLEU for the
// base model and the adapter (gen/*_base, gen/*_adapter).

import { formatCount } from './format.ts';

export interface GenScore {
  id: 'chrf2' | 'chrfpp' | 'bleu';
  label: string;
  base: number;
  adapter: number;
}

export interface RunResults {
  scores: GenScore[];
  /** How many held-out prompts were decoded for the scores. */
  examples?: number;
  evalLoss?: number;
  evalAccuracy?: number;
  /** How many held-out pairs the eval loss is over. */
  evalPairs?: number;
  /** How many pairs the held-out split has (more than evalPairs: the eval was a sample of it). */
  evalSplitPairs?: number;
}

const GEN: [GenScore['id'], string][] = [
  ['chrf2', 'chrF2'],
  ['chrfpp', 'chrF++'],
  ['bleu', 'BLEU'],
];

const num = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function resultsOf(m: Record<string, number> | undefined | null): RunResults | null {
  if (!m) return null;
  const scores = GEN.flatMap(([id, label]) => {
    const base = num(m[`gen/${id}_base`]);
    const adapter = num(m[`gen/${id}_adapter`]);
    return base === undefined || adapter === undefined ? [] : [{ id, label, base, adapter }];
  });
  const r: RunResults = { scores, examples: num(m['gen/examples']), evalLoss: num(m.eval_loss), evalAccuracy: num(m['eval_rewards/accuracies']), evalPairs: num(m.eval_pairs), evalSplitPairs: num(m.eval_split_pairs) };
  return scores.length || r.evalLoss !== undefined ? r : null;
}

/**
 * Which held-out pairs the eval numbers are over, in words: all of the split the Data screen shows, or a sample of
 * it. The split's size is the engine's (eval_split_pairs); `shownSplit` (the Data screen's count) serves runs
 * recorded before the engine reported it.
 */
export function evalSplitNote(r: Pick<RunResults, 'evalPairs' | 'evalSplitPairs'>, shownSplit?: number): string | null {
  if (r.evalPairs === undefined) return null;
  const split = r.evalSplitPairs ?? shownSplit;
  const n = formatCount(r.evalPairs);
  if (split !== undefined && r.evalPairs < split) {
    return `Eval over a sample: the first ${n} of the ${formatCount(split)} held-out pairs the Data screen shows (sampled to keep evals short).`;
  }
  if (split === undefined) return `Eval over ${r.evalPairs === 1 ? 'one held-out pair' : `${n} held-out pairs`}.`;
  return `Eval over ${r.evalPairs === 1 ? 'the one held-out pair' : `all ${n} held-out pairs`} the Data screen shows.`;
}

/** Scores as sacreBLEU prints them, to two decimals. */
export const formatScore = (v: number) => v.toFixed(2);

/** "31.25 → 38.50" for a table cell. */
export const scoreChange = (s: GenScore) => `${formatScore(s.base)} → ${formatScore(s.adapter)}`;
