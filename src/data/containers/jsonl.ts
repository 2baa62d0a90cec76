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
  const raw = (e as Error).message ?? String(e);
  // V8 says "in JSON at position 61 (line 1 column 62)", counted within this row: beside the file line the
  // issue names, "line 1" contradicted it. The column alone says where. The row is quoted as it is, not
  // JSON-escaped a second time, and V8's own excerpt of it ("…" is not valid JSON) is dropped.
  const pos = / at position (\d+)/.exec(raw);
  const msg = raw.replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, pos ? ` at column ${Number(pos[1]) + 1}` : '').replace(/ of JSON input$/, ' of the row').replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
  const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return `${msg}: ${preview}`;
}
