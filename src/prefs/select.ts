// Picking chosen and rejected among scored candidates.
//
// ALMA-R (fe1ixxu/ALMA utils.py, preprocess_cpo_data) ranks [reference, GPT-4, ALMA-13B-LoRA] by a quality score
// and takes the highest as chosen and the lowest as rejected, the first in list order winning ties (Python's
// list.index(max(...))). The reference is one candidate among the others there because its score came from
// reference-free estimators (KIWI-XXL, XCOMET). Here every score is against the reference, so the reference
// scores the metric's maximum (100) and, while it takes part, it is the chosen translation — candidates equal to
// it are merged into it, never ranked apart. `includeReference: false` leaves it out of the ranking (it still is
// what every candidate is scored against), so chosen becomes the best system or model output.
import { Fingerprint } from '../util/hash.ts';
import { Rng } from '../util/rng.ts';
import type { RejectRule, ScoredCandidate, Selection } from './types.ts';

export interface SelectOptions {
  rule: RejectRule;
  /** Pairs whose chosen and rejected scores differ by less than this are dropped (and counted); ≥ 0. */
  margin: number;
  /** The reference takes part as a candidate (default true, as ALMA-R). */
  includeReference: boolean;
  /** 'random-lower': the draw for row i comes from (seed, i) alone, so a resumed build draws the same. */
  seed: number;
}

export const DEFAULT_SELECT: SelectOptions = { rule: 'worst', margin: 0, includeReference: true, seed: 0 };

/** Whether a candidate may be ranked: anything a system or the model produced; the reference when included. */
function eligible(c: ScoredCandidate, includeReference: boolean): boolean {
  return includeReference || c.from.some((f) => f !== 'reference');
}

/**
 * Chosen = the highest score, the first in candidate order on ties. Rejected = the lowest (first on ties), or
 * ('random-lower') a uniform draw among candidates at least `margin` below the chosen one. Equal scores are never
 * a preference: a pair is kept only when chosen − rejected ≥ margin and > 0.
 */
export function selectPair(cands: readonly ScoredCandidate[], o: SelectOptions, rowIndex: number): Selection {
  const pool = cands.map((_, i) => i).filter((i) => eligible(cands[i], o.includeReference));
  if (pool.length < 2) return { kind: 'dropped', reason: 'too-few' };
  let best = pool[0];
  let worst = pool[0];
  for (const i of pool) {
    if (cands[i].score > cands[best].score) best = i;
    if (cands[i].score < cands[worst].score) worst = i;
  }
  const top = cands[best].score;
  const keeps = (i: number) => cands[i].score < top && top - cands[i].score >= o.margin;
  if (o.rule === 'worst') return keeps(worst) ? { kind: 'pair', chosen: best, rejected: worst } : { kind: 'dropped', reason: 'margin' };
  const lower = pool.filter(keeps);
  if (lower.length === 0) return { kind: 'dropped', reason: 'margin' };
  const rng = new Rng(rowSeed(o.seed, rowIndex));
  return { kind: 'pair', chosen: best, rejected: lower[rng.int(lower.length)] };
}

/** A 32-bit seed for row i of a build seeded `seed`, independent of which rows came before. */
export function rowSeed(seed: number, rowIndex: number): number {
  return parseInt(new Fingerprint().number(seed).number(rowIndex).hex().slice(0, 8), 16);
}
