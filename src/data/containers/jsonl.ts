// JSON Lines: one JSON value per line; blank lines are counted, not treated as rows.
import type { ChunkReader } from '../source.ts';
import { readLines } from './lines.ts';
import type { RawItem } from './record.ts';

export async function* parseJsonl(reader: ChunkReader): AsyncGenerator<RawItem> {
  let row = 0;
  for await (const { text, line, badUtf8 } of readLines(reader)) {
    if (text.trim() === '') {
      yield { kind: 'blank' };
      continue;
    }
    row++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      yield { kind: 'issue', issue: { row, line, reason: 'malformed-json', message: jsonError(e, text) } };
      continue;
    }
    yield { kind: 'record', value, origin: { row, line }, badUtf8 };
  }
}

export function jsonError(e: unknown, text: string): string {
  const msg = (e as Error).message ?? String(e);
  const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return `${msg} in ${JSON.stringify(preview)}`;
}
