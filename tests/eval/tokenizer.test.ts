// The 13a tokenizer rules (sacrebleu/tokenizers/tokenizer_13a.py + tokenizer_re.py), and the
// Python-string semantics the metrics depend on. Expected strings follow from those rules.
import { describe, expect, it } from 'vitest';
import { tokenize13a, tokenizeChar } from '../../src/eval/index.ts';
import { pyFixed, pySplit, pyRstrip } from '../../src/eval/pystr.ts';

describe('tokenize13a', () => {
  it('splits punctuation and symbols but not apostrophes or word-internal dashes', () => {
    expect(tokenize13a('Hello, world!')).toBe('Hello , world !');
    expect(tokenize13a("It wasn't surprising.")).toBe("It wasn't surprising .");
    expect(tokenize13a('a well-known (fact)')).toBe('a well-known ( fact )');
    expect(tokenize13a('x/y: 50% [ok] {z} ~q ^ `b` |p| @h #t $9 & ; = < > ?')).toBe(
      'x / y : 50 % [ ok ] { z } ~ q ^ ` b ` | p | @ h # t $ 9 & ; = < > ?',
    );
  });
  it('keeps periods and commas between digits, splits dash after a digit', () => {
    expect(tokenize13a('It costs 3.50 or 1,000.')).toBe('It costs 3.50 or 1,000 .');
    expect(tokenize13a('pages 5-6')).toBe('pages 5 - 6');
    // A leading period has a non-digit (the padding space) before it, so it is split off.
    expect(tokenize13a('.5 and 5.')).toBe('. 5 and 5 .');
  });
  it('drops <skipped>, joins "-\\n" hyphenation, turns newlines into spaces', () => {
    expect(tokenize13a('a <skipped> b')).toBe('a b');
    expect(tokenize13a('hyphen-\nated\nline')).toBe('hyphenated line');
  });
  it('unescapes &quot; &amp; &lt; &gt; in sacreBLEU order', () => {
    expect(tokenize13a('&quot;hi&quot; &lt;b&gt;')).toBe('" hi " < b >');
    // &amp; is unescaped after &quot;, so "&amp;quot;" ends as "&quot;" and is then tokenized.
    expect(tokenize13a('&amp;quot;')).toBe('& quot ;');
  });
  it('leaves non-ASCII letters and CJK runs whole', () => {
    expect(tokenize13a('Producția de zahăr.')).toBe('Producția de zahăr .');
    expect(tokenize13a('我们今天去公园。')).toBe('我们今天去公园。');
  });
  it('char tokenizer splits code points', () => {
    expect(tokenizeChar('a𠀀b')).toBe('a 𠀀 b');
  });
});

describe('Python str semantics', () => {
  it('split() uses Python whitespace, not JS \\s', () => {
    expect(pySplit(' a\u001fb\u0085c\u3000d ')).toEqual(['a', 'b', 'c', 'd']);
    expect(pySplit('a\ufeffb')).toEqual(['a\ufeffb']);
    expect(pyRstrip('x \t\u00a0\n')).toBe('x');
  });
  it("format(x, '.Nf') rounds exact ties to even like Python", () => {
    expect(pyFixed(0.125, 2)).toBe('0.12');
    expect(pyFixed(0.375, 2)).toBe('0.38');
    expect(pyFixed(2.5, 0)).toBe('2');
    expect(pyFixed(48.530827, 2)).toBe('48.53');
    expect(pyFixed(0.1, 1)).toBe('0.1');
  });
});
