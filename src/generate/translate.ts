// Translation with the ALMA prompt: tokenize (BOS first when the tokenizer has one, as the training data is
// tokenized), decode in length-sorted batches, stop at EOS or at the first newline, detokenize, trim.
import { almaPrompt, languageCode } from '../data/rows/languages.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import type { Decoder } from './decoder.ts';
import { generate, type GenerateOptions, type Generated } from './generate.ts';

export interface TranslateOptions {
  srcLang: string;
  tgtLang: string;
  maxNewTokens?: number; // default 256 (ALMA's evaluation)
  numBeams?: number; // default 1; ALMA evaluates with 5
  /** Sources decoded at once (each takes numBeams slots). */
  batchSize?: number; // default 8
  useLora?: boolean; // default true
  /** End at a newline (ALMA answers on one line); default true. */
  stopAtNewline?: boolean;
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Called after each batch with the sources done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** EOS ids of the model config and of the tokenizer, together. */
export function eosIds(cfgEos: number | number[] | null, tokenizer: TextTokenizer | null): number[] {
  const ids = new Set<number>(cfgEos === null ? [] : Array.isArray(cfgEos) ? cfgEos : [cfgEos]);
  if (tokenizer?.eosId !== null && tokenizer?.eosId !== undefined) ids.add(tokenizer.eosId);
  return [...ids];
}

/** Memoized "does this token's text contain a newline" (decoding each id once, on first sight). */
export function newlinePredicate(tokenizer: TextTokenizer): (id: number) => boolean {
  const seen = new Map<number, boolean>();
  return (id) => {
    let v = seen.get(id);
    if (v === undefined) {
      v = tokenizer.decode([id]).includes('\n');
      seen.set(id, v);
    }
    return v;
  };
}

/** Prompt ids as training tokenizes them: BOS (when the tokenizer has one) + the text, no EOS. */
export function promptIds(tokenizer: TextTokenizer, text: string): number[] {
  const ids = tokenizer.encode(text);
  return tokenizer.bosId !== null && ids[0] !== tokenizer.bosId ? [tokenizer.bosId, ...ids] : ids;
}

/** The text of a generation: special tokens dropped, cut at the first newline when asked, trimmed. */
export function generatedText(tokenizer: TextTokenizer, g: Generated, stopAtNewline: boolean): string {
  let text = tokenizer.decode(g.ids, true);
  if (stopAtNewline) {
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
  }
  return text.trim();
}

/** Completes ready-made prompts (e.g. ALMA prompts read from a data file); one output line per prompt. */
export async function completePrompts(dec: Decoder, tokenizer: TextTokenizer, prompts: string[], o: Omit<TranslateOptions, 'srcLang' | 'tgtLang'>): Promise<string[]> {
  const stopAtNewline = o.stopAtNewline ?? true;
  const batchSize = Math.max(1, o.batchSize ?? 8);
  const ids = prompts.map((p) => promptIds(tokenizer, p));
  const gen: GenerateOptions = {
    maxNewTokens: o.maxNewTokens ?? 256,
    eosIds: eosIds(dec.model.cfg.eosId, tokenizer),
    isStopToken: stopAtNewline ? newlinePredicate(tokenizer) : undefined,
    useLora: o.useLora ?? true,
    numBeams: o.numBeams ?? 1,
    doSample: o.doSample,
    temperature: o.temperature,
    topP: o.topP,
    seed: o.seed,
  };
  // Batches of similar lengths waste fewer padded prefill rows; results go back in input order.
  const order = [...ids.keys()].sort((a, b) => ids[a].length - ids[b].length || a - b);
  const out = new Array<string>(prompts.length);
  for (let i = 0; i < order.length; i += batchSize) {
    const batch = order.slice(i, i + batchSize);
    const res = await generate(dec, batch.map((k) => ids[k]), gen);
    batch.forEach((k, j) => (out[k] = generatedText(tokenizer, res[j], stopAtNewline)));
    o.onProgress?.(Math.min(i + batchSize, order.length), order.length);
  }
  return out;
}

/** Translates each source from srcLang to tgtLang with the ALMA prompt. */
export async function translate(dec: Decoder, tokenizer: TextTokenizer, sources: string[], o: TranslateOptions): Promise<string[]> {
  const src = checkedLanguage(o.srcLang, 'srcLang');
  const tgt = checkedLanguage(o.tgtLang, 'tgtLang');
  return completePrompts(dec, tokenizer, sources.map((s) => almaPrompt(src, tgt, s)), o);
}

/** A language code or English name → the canonical code the ALMA prompt names; unknown ones are errors. */
export function checkedLanguage(raw: string, field: string): string {
  const code = languageCode(raw);
  if (!code) throw new Error(`${field}: unknown language ${JSON.stringify(raw)} (a code such as de, cs, is, zh, ru, en)`);
  return code;
}
