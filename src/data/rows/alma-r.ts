// ALMA-R-Preference rows (haoranxu/ALMA-R-Preference): one `translation` struct per source pair holding the
// reference, GPT-4 and ALMA-13B-LoRA translations in both directions with their quality-estimation scores.
// The rule is fe1ixxu/ALMA utils.py preprocess_cpo_data: per target language, a human label (Delta ≠ 0)
// picks GPT-4 (Delta > 0) or ALMA (Delta < 0) as chosen and the other as rejected; otherwise chosen is the
// highest-scoring of [reference, GPT-4, ALMA] and rejected the lowest (first wins on ties, as Python's
// list.index(max(...)) does). Both directions are made unless required_directions names one.
import type { AlmaScorer, RowIssue, RowOrigin, TextPreferenceRow } from '../types.ts';
import { RowProblem, getPath, isRecord, numberAt, textAt, type Rec } from './fields.ts';
import { almaPrompt, parseLangPair } from './languages.ts';

export interface AlmaOptions {
  scorer: AlmaScorer;
  /** Directions to keep ("de-en", "en-de"), like ALMA's --language_pairs; all when absent. */
  directions?: string[];
  answerPrefix?: string;
}

export interface AlmaChoice {
  chosen: string;
  rejected: string;
  /** Which candidates were picked: 'ref' | 'gpt4' | 'alma'. */
  chosenFrom: string;
  rejectedFrom: string;
  byHuman: boolean;
}

/** Chosen and rejected translations into `tgt` for one ALMA-R record (the inner translation struct). */
export function almaChoose(t: Rec, tgt: string, scorer: AlmaScorer): AlmaChoice {
  const at = (k: string) => textAt(t, k);
  const delta = getPath(t, 'Delta');
  if (delta !== undefined && delta !== null && delta !== '') {
    const d = numberAt(t, 'Delta');
    if (d !== 0) {
      const gpt4 = at(`gpt4_${tgt}`);
      const alma = at(`alma_${tgt}`);
      return d > 0
        ? { chosen: gpt4, rejected: alma, chosenFrom: 'gpt4', rejectedFrom: 'alma', byHuman: true }
        : { chosen: alma, rejected: gpt4, chosenFrom: 'alma', rejectedFrom: 'gpt4', byHuman: true };
    }
  }
  const names = ['ref', 'gpt4', 'alma'];
  const texts = [at(tgt), at(`gpt4_${tgt}`), at(`alma_${tgt}`)];
  const scores = names.map((n) => numberAt(t, `${n}_${tgt}_${scorer}`));
  let hi = 0;
  let lo = 0;
  for (let i = 1; i < 3; i++) {
    if (scores[i] > scores[hi]) hi = i;
    if (scores[i] < scores[lo]) lo = i;
  }
  return { chosen: texts[hi], rejected: texts[lo], chosenFrom: names[hi], rejectedFrom: names[lo], byHuman: false };
}

export interface AlmaResult {
  rows: TextPreferenceRow[];
  issues: RowIssue[];
  skippedDirections: number;
}

export function convertAlmaR(rec: Rec, origin: RowOrigin, opts: AlmaOptions): AlmaResult {
  const out: AlmaResult = { rows: [], issues: [], skippedDirections: 0 };
  const line = origin.line ?? origin.row;
  // Nested as in the Hub dataset, or flattened (a CSV export) with the same field names.
  if ('translation' in rec && !isRecord(rec.translation)) {
    const what = rec.translation === null ? 'missing' : 'not an object';
    out.issues.push({ row: origin.row, line: origin.line, field: 'translation', reason: rec.translation === null ? 'missing-field' : 'non-string-field', message: `translation is ${what}` });
    return out;
  }
  const nested = isRecord(rec.translation);
  const t = nested ? (rec.translation as Rec) : rec;
  const prefix = nested ? 'translation.' : '';
  const problem = (e: unknown): RowIssue => {
    if (!(e instanceof RowProblem)) throw e;
    return { row: origin.row, line: origin.line, field: e.field === undefined ? undefined : prefix + e.field, reason: e.reason, message: `${prefix}${e.message}` };
  };
  let a: string;
  let b: string;
  try {
    [a, b] = parseLangPair(textAt(t, 'language_pair'), 'language_pair');
  } catch (e) {
    out.issues.push(problem(e));
    return out;
  }
  const required = typeof t.required_directions === 'string' ? t.required_directions.trim() : '';
  for (const [src, tgt] of [
    [a, b],
    [b, a],
  ]) {
    if (required) {
      const reqTgt = required.split('-')[1];
      if (reqTgt !== tgt) {
        out.skippedDirections++;
        continue;
      }
    }
    if (opts.directions && !opts.directions.includes(`${src}-${tgt}`)) {
      out.skippedDirections++;
      continue;
    }
    try {
      const source = textAt(t, src);
      const c = almaChoose(t, tgt, opts.scorer);
      const pre = opts.answerPrefix ?? '';
      out.rows.push({
        kind: 'text',
        line,
        row: origin.row,
        langPair: `${src}-${tgt}`,
        prompt: almaPrompt(src, tgt, source),
        chosen: pre + c.chosen,
        rejected: pre + c.rejected,
      });
    } catch (e) {
      out.issues.push(problem(e));
    }
  }
  return out;
}
