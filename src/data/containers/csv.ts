// CSV and TSV (RFC 4180 quoting in both: quoted fields may hold delimiters, doubled quotes and newlines).
// The first record is the header. Works line by line on top of readLines, so memory stays one record.
import type { ChunkReader } from '../source.ts';
import { DataFileError } from '../types.ts';
import { readLines } from './lines.ts';
import type { ContainerNotes, RawItem } from './record.ts';

export async function* parseDelimited(
  reader: ChunkReader,
  delimiter: ',' | '\t',
  file: string,
  notes: ContainerNotes,
): AsyncGenerator<RawItem> {
  let header: string[] | null = null;
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let afterQuote = false;
  let inRecord = false;
  let startLine = 0;
  let badUtf8 = false;
  let malformed = '';
  let row = 0;
  let lastLine = 0;

  const finish = (): RawItem | null => {
    fields.push(field);
    const rec = fields;
    fields = [];
    field = '';
    inRecord = false;
    afterQuote = false;
    const bad = badUtf8;
    const why = malformed;
    badUtf8 = false;
    malformed = '';
    if (!header) {
      header = rec.map((h) => h.trim());
      if (header.length === 1 && header[0] === '') throw new DataFileError(file, 'has an empty header line');
      checkHeader(header, delimiter, file);
      return null;
    }
    row++;
    if (why) return { kind: 'issue', issue: { row, line: startLine, reason: 'malformed-csv', message: why } };
    if (rec.length !== header.length) {
      return {
        kind: 'issue',
        issue: { row, line: startLine, reason: 'malformed-csv', message: `${rec.length} fields where the header has ${header.length}` },
      };
    }
    const value: Record<string, string> = {};
    header.forEach((h, k) => (value[h] = rec[k]));
    return { kind: 'record', value, origin: { row, line: startLine }, badUtf8: bad };
  };

  for await (const { text, line, badUtf8: lineBad } of readLines(reader)) {
    lastLine = line;
    if (!inRecord) {
      if (text === '') {
        if (header) yield { kind: 'blank' };
        continue;
      }
      inRecord = true;
      startLine = line;
    }
    if (lineBad) badUtf8 = true;
    let i = 0;
    for (;;) {
      if (inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          field += text.slice(i) + '\n';
          break; // the record continues on the next line
        }
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          inQuotes = false;
          afterQuote = true;
          i = q + 1;
        }
        continue;
      }
      if (field === '' && !afterQuote && text[i] === '"') {
        inQuotes = true;
        i++;
        continue;
      }
      const d = text.indexOf(delimiter, i);
      const end = d < 0 ? text.length : d;
      if (afterQuote && end > i && !malformed) malformed = `text after a closing quote at line ${line}`;
      field += text.slice(i, end);
      if (d < 0) {
        const item = finish();
        if (item) yield item;
        break;
      }
      fields.push(field);
      field = '';
      afterQuote = false;
      i = d + 1;
    }
  }
  if (inRecord) {
    notes.warnings.push(`the file ends inside a quoted field that starts at line ${startLine} (truncated?)`);
    malformed = `unterminated quoted field (the file ends at line ${lastLine})`;
    const item = finish();
    if (item) yield item;
  }
  if (!header) throw new DataFileError(file, 'is empty (no header line)');
}

/** A header that would make rows silently wrong: a repeated column (the last one would win), another separator. */
function checkHeader(header: string[], delimiter: string, file: string): void {
  const at = new Map<string, number>();
  header.forEach((h, k) => {
    const first = at.get(h);
    if (first !== undefined) throw new DataFileError(file, `header line names column ${JSON.stringify(h)} twice (columns ${first + 1} and ${k + 1}); rename one`);
    at.set(h, k);
  });
  if (header.length === 1) {
    for (const [sep, name] of [[';', 'semicolon'], ['|', 'pipe'], ['\t', 'tab'], [',', 'comma']] as const) {
      if (sep !== delimiter && header[0].split(sep).length >= 3) {
        throw new DataFileError(file, `header line is one column ${JSON.stringify(header[0].slice(0, 60))}: the file looks ${name}-separated; save it as CSV (commas) or TSV (tabs)`);
      }
    }
  }
}
