// BLEU tokenizers, ported from sacrebleu/tokenizers/{tokenizer_13a,tokenizer_re,tokenizer_char,tokenizer_none}.py.
import { codePoints, pySplit } from './pystr.ts';

export type BleuTokenizerName = '13a' | 'none' | 'char';

// sacrebleu TokenizerRegexp, in its order. Python's class `[\{-\~\[-\` -\&\(-\+\:-\@\/]` is
// written with hex ranges because `\~`, `\&`, `\:` ... are not legal escapes under the `u` flag.
// The `u` flag keeps `[^0-9]` consuming whole code points as Python does.
const POST_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // language-dependent part (assuming Western languages)
  [/([\x7B-\x7E\x5B-\x60\x20-\x26\x28-\x2B\x3A-\x40\x2F])/gu, ' $1 '],
  // period and comma, unless preceded by a digit
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // period and comma, unless followed by a digit
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // dash, when preceded by a digit
  [/([0-9])(-)/gu, '$1 $2 '],
];

function postTokenize(line: string): string {
  for (const [re, repl] of POST_RULES) line = line.replace(re, repl);
  return pySplit(line).join(' ');
}

/** mteval-v13a tokenization as sacreBLEU's Tokenizer13a does it. */
export function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '');
  line = line.replaceAll('-\n', '');
  line = line.replaceAll('\n', ' ');
  // &amp; goes after &quot; so that "&amp;quot;" becomes "&quot;", not '"' (same order as sacreBLEU).
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"');
    line = line.replaceAll('&amp;', '&');
    line = line.replaceAll('&lt;', '<');
    line = line.replaceAll('&gt;', '>');
  }
  return postTokenize(` ${line} `);
}

export function tokenizeChar(line: string): string {
  return codePoints(line).join(' ');
}

export function getTokenizer(name: BleuTokenizerName): (line: string) => string {
  switch (name) {
    case '13a':
      return tokenize13a;
    case 'char':
      return tokenizeChar;
    case 'none':
      return (line) => line;
  }
}
