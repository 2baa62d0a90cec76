// Row-layout detection from the first records' fields, and the per-record conversion it selects.
import type { AlmaScorer, ColumnMapping, PreferenceRow, RowFormat, RowIssue, RowOrigin } from '../types.ts';
import { convertAlmaR } from './alma-r.ts';
import { RowProblem, getPath, isRecord, type Rec } from './fields.ts';
import { convertTranslation, findLangSpec, SOURCE_KEYS, type TranslationFields } from './translation.ts';
import { convertTrl } from './trl.ts';

export function isAlmaRRecord(rec: Rec): boolean {
  const t = isRecord(rec.translation) ? rec.translation : rec;
  return 'language_pair' in t && Object.keys(t).some((k) => /^(gpt4|alma)_[a-z]+$/.test(k));
}

export function detectFormat(samples: Rec[]): RowFormat | undefined {
  if (!samples.length) return undefined;
  if (samples.some(isAlmaRRecord)) return 'alma-r';
  const keys = new Set(samples.flatMap((s) => Object.keys(s)));
  if (!keys.has('chosen') && !keys.has('rejected')) return undefined;
  if (!keys.has('prompt') && SOURCE_KEYS.some((k) => keys.has(k)) && samples.some((s) => findLangSpec(s))) return 'translation';
  return 'trl';
}

export interface ConvertSettings {
  format: RowFormat;
  mapping?: ColumnMapping;
  scorer: AlmaScorer;
  directions?: string[];
  answerPrefix: string;
  /** CSV/TSV cells may hold JSON message lists. */
  jsonCells: boolean;
  /** Translation fields found by detection (format 'translation'). */
  translation?: TranslationFields;
}

export function translationFieldsFrom(samples: Rec[]): TranslationFields | undefined {
  const source = SOURCE_KEYS.find((k) => samples.some((s) => k in s));
  const langs = samples.map(findLangSpec).find(Boolean);
  return source && langs ? { source, chosen: 'chosen', rejected: 'rejected', langs } : undefined;
}

export interface Converted {
  rows: PreferenceRow[];
  issues: RowIssue[];
  skippedDirections: number;
}

export function convertRecord(rec: Rec, origin: RowOrigin, s: ConvertSettings): Converted {
  if (s.format === 'alma-r') return convertAlmaR(rec, origin, { scorer: s.scorer, directions: s.directions, answerPrefix: s.answerPrefix });
  try {
    return { rows: [convertOne(rec, origin, s)], issues: [], skippedDirections: 0 };
  } catch (e) {
    if (!(e instanceof RowProblem)) throw e;
    return { rows: [], issues: [{ row: origin.row, line: origin.line, field: e.field, reason: e.reason, message: e.message }], skippedDirections: 0 };
  }
}

function convertOne(rec: Rec, origin: RowOrigin, s: ConvertSettings): PreferenceRow {
  switch (s.format) {
    case 'trl':
      return convertTrl(rec, origin, s.jsonCells);
    case 'translation': {
      const f = translationFieldsFrom([rec]) ?? s.translation;
      if (!f) throw new RowProblem(undefined, 'missing-field', 'no source or language pair fields');
      return convertTranslation(rec, origin, f, s.answerPrefix);
    }
    case 'mapping': {
      const m = s.mapping;
      if (!m) throw new Error("format 'mapping' needs a column mapping");
      if (m.source) {
        return convertTranslation(
          rec,
          origin,
          {
            source: m.source,
            chosen: m.chosen,
            rejected: m.rejected,
            langs: { fixed: m.langPair, pairColumn: m.langPairColumn, srcColumn: m.srcLangColumn, tgtColumn: m.tgtLangColumn },
          },
          s.answerPrefix,
        );
      }
      const view: Rec = { [m.chosen]: getPath(rec, m.chosen), [m.rejected]: getPath(rec, m.rejected) };
      if (m.prompt) view[m.prompt] = getPath(rec, m.prompt);
      const row = convertTrl(view, origin, s.jsonCells, { prompt: m.prompt ?? '\u0000no-prompt', chosen: m.chosen, rejected: m.rejected });
      if (m.langPair) row.langPair = m.langPair;
      return row;
    }
    default:
      throw new Error(`unknown row format ${s.format as string}`);
  }
}
