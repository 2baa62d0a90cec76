// Language codes to the English names the ALMA prompt uses ("Translate this from German to English:").
import { RowProblem } from './fields.ts';

export const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  af: 'Afrikaans', ar: 'Arabic', bg: 'Bulgarian', bn: 'Bengali', ca: 'Catalan', cs: 'Czech', cy: 'Welsh',
  da: 'Danish', de: 'German', el: 'Greek', en: 'English', es: 'Spanish', et: 'Estonian', eu: 'Basque',
  fa: 'Persian', fi: 'Finnish', fr: 'French', ga: 'Irish', gl: 'Galician', gu: 'Gujarati', ha: 'Hausa',
  he: 'Hebrew', hi: 'Hindi', hr: 'Croatian', hu: 'Hungarian', hy: 'Armenian', id: 'Indonesian', is: 'Icelandic',
  it: 'Italian', ja: 'Japanese', ka: 'Georgian', kk: 'Kazakh', km: 'Khmer', kn: 'Kannada', ko: 'Korean',
  ky: 'Kyrgyz', liv: 'Livonian', lt: 'Lithuanian', lv: 'Latvian', mk: 'Macedonian', ml: 'Malayalam',
  mn: 'Mongolian', mr: 'Marathi', ms: 'Malay', mt: 'Maltese', my: 'Burmese', nb: 'Norwegian', ne: 'Nepali',
  nl: 'Dutch', nn: 'Norwegian Nynorsk', no: 'Norwegian', pa: 'Punjabi', pl: 'Polish', ps: 'Pashto',
  pt: 'Portuguese', ro: 'Romanian', ru: 'Russian', sah: 'Yakut', si: 'Sinhala', sk: 'Slovak', sl: 'Slovenian',
  sq: 'Albanian', sr: 'Serbian', sv: 'Swedish', sw: 'Swahili', ta: 'Tamil', te: 'Telugu', th: 'Thai',
  tl: 'Tagalog', tr: 'Turkish', uk: 'Ukrainian', ur: 'Urdu', uz: 'Uzbek', vi: 'Vietnamese', xh: 'Xhosa',
  yo: 'Yoruba', zh: 'Chinese', zu: 'Zulu',
};

const BY_NAME = new Map(Object.entries(LANGUAGE_NAMES).map(([code, name]) => [name.toLowerCase(), code]));

/** A language code ("de", "de_DE", "zh-Hans") or English name ("German") → its canonical code. */
export function languageCode(raw: string): string | undefined {
  const s = raw.trim().toLowerCase();
  if (LANGUAGE_NAMES[s]) return s;
  const primary = s.split(/[-_]/)[0];
  if (LANGUAGE_NAMES[primary]) return primary;
  return BY_NAME.get(s);
}

export function languageName(code: string): string {
  return LANGUAGE_NAMES[code];
}

/** "de-en", "de_en", "deen" → ["de", "en"]; the field name is for the issue when it cannot be read. */
export function parseLangPair(raw: string, field: string): [string, string] {
  const s = raw.trim();
  let parts = s.split(/\s*(?:->|→|-|_|\s)\s*/).filter(Boolean);
  if (parts.length !== 2 && /^[a-z]{4}$/i.test(s)) parts = [s.slice(0, 2), s.slice(2)];
  if (parts.length !== 2) throw new RowProblem(field, 'unknown-language', `cannot read language pair ${JSON.stringify(raw)} (expected e.g. "de-en")`);
  const src = languageCode(parts[0]);
  const tgt = languageCode(parts[1]);
  if (!src) throw new RowProblem(field, 'unknown-language', `unknown language ${JSON.stringify(parts[0])}`);
  if (!tgt) throw new RowProblem(field, 'unknown-language', `unknown language ${JSON.stringify(parts[1])}`);
  return [src, tgt];
}

/** ALMA's prompt, exactly as fe1ixxu/ALMA's get_prompt builds it (no trailing space after "{Tgt}:"). */
export function almaPrompt(src: string, tgt: string, source: string): string {
  const s = languageName(src);
  const t = languageName(tgt);
  return `Translate this from ${s} to ${t}:\n${s}: ${source}\n${t}:`;
}
