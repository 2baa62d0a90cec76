import { describe, expect, it } from 'vitest';
import { columnsFromText, guessMapping } from '../../src/ui/lib/columns.ts';
import { formatBytes, formatDuration, formatNumber } from '../../src/ui/lib/format.ts';

describe('column mapping guess', () => {
  it('knows the common names of preference datasets', () => {
    expect(guessMapping(['src', 'good', 'bad'])).toEqual({ source: 'src', chosen: 'good', rejected: 'bad' });
    expect(guessMapping(['question', 'response_j', 'response_k', 'qid'])).toEqual({ prompt: 'question', chosen: 'response_j', rejected: 'response_k' });
    expect(guessMapping(['Instruction', 'Preferred', 'Dispreferred'])).toEqual({ prompt: 'Instruction', chosen: 'Preferred', rejected: 'Dispreferred' });
    expect(guessMapping(['translation.de', 'pair.better', 'pair.worse'])).toEqual({ chosen: 'pair.better', rejected: 'pair.worse' });
    expect(guessMapping(['a', 'b'])).toEqual({});
  });
});

describe('column sniffing', () => {
  it('reads JSONL keys, nested as dotted paths', () => {
    expect(columnsFromText('a.jsonl', '{"translation":{"de":"x","en":"y"},"score":1}\n{"z":1}')).toEqual(['translation.de', 'translation.en', 'score']);
  });
  it('reads CSV and TSV headers with quotes', () => {
    expect(columnsFromText('a.csv', 'src,"good, best",bad\n1,2,3')).toEqual(['src', 'good, best', 'bad']);
    expect(columnsFromText('a.tsv.gz', 'a\tb\n')).toEqual(['a', 'b']);
  });
  it('reads the first object of a JSON array head', () => {
    expect(columnsFromText('a.json', '[{"p":"{x}","c":"y"},{"p":')).toEqual(['p', 'c']);
  });
});

describe('formatting', () => {
  it('formats bytes, durations and numbers', () => {
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(3_700_000)).toBe('1h 01m');
    expect(formatNumber(0.0001)).toBe('1e-4');
    expect(formatNumber(12345)).toBe('12.3k');
    expect(formatNumber(1.23456)).toBe('1.23');
  });
});
