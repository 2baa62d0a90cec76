// The preference dataset: TRL's standard format (prompt / chosen / rejected) with the ALMA prompt, one JSON object
// a line, plus what was decided, for inspection: the direction, the two scores and every candidate with its
// origins and score. The data layer reads it as TRL rows (the extra fields are ignored), so it trains as is.
import { almaPrompt } from '../data/rows/languages.ts';
import type { PrefRecord, PrefsMetric } from './types.ts';

export interface PrefsOutputRow {
  prompt: string;
  chosen: string;
  rejected: string;
  id?: string;
  lp: string;
  metric: PrefsMetric;
  chosen_score: number;
  rejected_score: number;
  chosen_from: string[];
  rejected_from: string[];
  candidates: { text: string; from: string[]; score: number }[];
}

export function outputRow(r: PrefRecord, metric: PrefsMetric): PrefsOutputRow | null {
  if (r.selection.kind !== 'pair') return null;
  const c = r.candidates[r.selection.chosen];
  const x = r.candidates[r.selection.rejected];
  const [src, tgt] = r.lp.split('-');
  return {
    prompt: almaPrompt(src, tgt, r.source),
    chosen: c.text,
    rejected: x.text,
    ...(r.id === undefined ? {} : { id: r.id }),
    lp: r.lp,
    metric,
    chosen_score: c.score,
    rejected_score: x.score,
    chosen_from: c.from,
    rejected_from: x.from,
    candidates: r.candidates,
  };
}

/** The kept pairs as JSON Lines, in input order. */
export function toJsonl(records: readonly PrefRecord[], metric: PrefsMetric): string {
  let out = '';
  for (const r of records) {
    const row = outputRow(r, metric);
    if (row) out += `${JSON.stringify(row)}\n`;
  }
  return out;
}
