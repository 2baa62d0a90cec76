import { describe, expect, it } from 'vitest';
import { jsonError } from '../../src/data/containers/jsonl.ts';

const errorOf = (text: string) => {
  try {
    JSON.parse(text);
  } catch (e) {
    return jsonError(e, text);
  }
  throw new Error('parsed');
};

describe('jsonError', () => {
  it('names the column within the row, never a "line 1" that contradicts the file line, and quotes the row once', () => {
    const row = '{"prompt": "Translate: kaputt", "chosen": ';
    expect(errorOf(row)).toBe(`Unexpected end of the row: ${row}`);
    expect(errorOf('{"prompt": "broken')).toBe('Unterminated string at column 19: {"prompt": "broken');
    // As Chromium's V8 words it.
    expect(jsonError(new SyntaxError('Unterminated string in JSON at position 61 (line 1 column 62)'), '{"a": "b')).toBe('Unterminated string at column 62: {"a": "b');
    expect(errorOf(`{"a": 1, "b": ${'x'.repeat(80)}}`)).toMatch(/^Unexpected token 'x': \{"a": 1, "b": x{46}…$/);
  });
});
