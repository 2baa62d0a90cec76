// Shared shapes of the preference builder: parallel rows in, scored candidates, selections and records out.
import type { RowOrigin } from '../data/types.ts';

/** One usable row of parallel text. */
export interface ParallelRow {
  /** 0-based among the usable rows: the builder's unit of progress. */
  index: number;
  /** Where it sits in the file (1-based line for text containers, row for Parquet). */
  origin: RowOrigin;
  id?: string;
  /** Language codes as the ALMA prompt names them. */
  src: string;
  tgt: string;
  source: string;
  reference: string;
  /** Outputs of other systems given in the file, in column order. */
  systems: { name: string; text: string }[];
}

export type PrefsMetric = 'chrf++' | 'chrf' | 'bleu';
export const PREFS_METRICS: readonly PrefsMetric[] = ['chrf++', 'chrf', 'bleu'];

/**
 * A distinct candidate translation of one source with its sentence score against the reference.
 * `from` names every origin that produced this exact text, in candidate order: "reference", "system:<column>",
 * "model:<k>" (k-th sample, or k-th beam hypothesis, best first).
 */
export interface ScoredCandidate {
  text: string;
  from: string[];
  score: number;
}

/** chosen = best, rejected = worst (ALMA-R), or a random candidate scoring at least the margin below the best. */
export type RejectRule = 'worst' | 'random-lower';
export const REJECT_RULES: readonly RejectRule[] = ['worst', 'random-lower'];

export type DropReason = 'margin' | 'too-few';

export type Selection = { kind: 'pair'; chosen: number; rejected: number } | { kind: 'dropped'; reason: DropReason };

/** Everything the builder decided for one source. */
export interface PrefRecord {
  index: number;
  id?: string;
  lp: string;
  source: string;
  reference: string;
  candidates: ScoredCandidate[];
  selection: Selection;
}
