// Translation triplets: a source sentence, its language pair and a chosen and a rejected translation,
// rendered with the ALMA prompt.
import type { TextPreferenceRow, RowOrigin } from '../types.ts';
import { RowProblem, has, textAt, type Rec } from './fields.ts';
import { almaPrompt, languageCode, parseLangPair } from './languages.ts';

export const SOURCE_KEYS = ['source', 'src', 'source_text', 'src_text'];
export const PAIR_KEYS = ['lp', 'language_pair', 'lang_pair', 'langpair', 'direction', 'pair'];
export const SPLIT_LANG_KEYS: [string, string][] = [
  ['src_lang', 'tgt_lang'],
  ['source_lang', 'target_lang'],
  ['src_language', 'tgt_language'],
  ['source_language', 'target_language'],
];

export interface LangSpec {
  fixed?: string;
  pairColumn?: string;
  srcColumn?: string;
  tgtColumn?: string;
}

/** The language fields a record has, if it has any this module recognises. */
export function findLangSpec(rec: Rec): LangSpec | undefined {
  const p = PAIR_KEYS.find((k) => has(rec, k));
  if (p) return { pairColumn: p };
  const s = SPLIT_LANG_KEYS.find(([a, b]) => has(rec, a) && has(rec, b));
  return s ? { srcColumn: s[0], tgtColumn: s[1] } : undefined;
}

export function resolveLangs(rec: Rec, spec: LangSpec): [string, string] {
  if (spec.fixed) return parseLangPair(spec.fixed, 'langPair');
  if (spec.pairColumn) return parseLangPair(textAt(rec, spec.pairColumn), spec.pairColumn);
  if (spec.srcColumn && spec.tgtColumn) {
    const lang = (col: string) => {
      const raw = textAt(rec, col);
      const code = languageCode(raw);
      if (!code) throw new RowProblem(col, 'unknown-language', `unknown language ${JSON.stringify(raw)}`);
      return code;
    };
    return [lang(spec.srcColumn), lang(spec.tgtColumn)];
  }
  throw new RowProblem(undefined, 'missing-field', 'no language pair (expected lp, language_pair or src_lang/tgt_lang)');
}

export interface TranslationFields {
  source: string;
  chosen: string;
  rejected: string;
  langs: LangSpec;
}

export function convertTranslation(rec: Rec, origin: RowOrigin, f: TranslationFields, answerPrefix = ''): TextPreferenceRow {
  const [src, tgt] = resolveLangs(rec, f.langs);
  const source = textAt(rec, f.source);
  const chosen = textAt(rec, f.chosen);
  const rejected = textAt(rec, f.rejected);
  return {
    kind: 'text',
    line: origin.line ?? origin.row,
    row: origin.row,
    langPair: `${src}-${tgt}`,
    prompt: almaPrompt(src, tgt, source),
    chosen: answerPrefix + chosen,
    rejected: answerPrefix + rejected,
  };
}
