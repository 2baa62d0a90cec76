// A JSON document holding the rows as an array — top level, or as a value of the top-level object
// ({"data": [...]}, datasets-server's {"rows": [{"row": {...}}]}). A byte-level scanner finds each array
// element and JSON.parses it alone, so a 200 MB document never exists as one string.
import type { ChunkReader } from '../source.ts';
import { DataFileError } from '../types.ts';
import { concat } from '../source.ts';
import { decodeUtf8 } from './lines.ts';
import { jsonError } from './jsonl.ts';
import type { ContainerNotes, RawItem } from './record.ts';

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

export async function* parseJsonDocument(
  reader: ChunkReader,
  file: string,
  notes: ContainerNotes,
  jsonKey?: string,
): AsyncGenerator<RawItem> {
  let depth = 0;
  let inString = false;
  let escape = false;
  let line = 1;
  let started = false; // seen the first non-space byte
  let topIsObject = false;
  // Top-level object bookkeeping: the key being read and whether we wait for a key or a value.
  let keyBytes: number[] | null = null;
  let lastKey = '';
  let expectValueOfKey = false;
  const skippedKeys: string[] = [];
  const otherKeys: string[] = [];
  // The chosen array: elements live at depth `elemDepth`; -1 until it is found, -2 once it has closed.
  let elemDepth = -1;
  let inElement = false;
  let elemParts: Uint8Array[] = [];
  let elemStartLine = 0;
  let row = 0;
  let firstByte = true;

  const finishElement = (): RawItem => {
    const bytes = concat(elemParts);
    elemParts = [];
    inElement = false;
    row++;
    const { text, bad } = decodeUtf8(bytes);
    try {
      let value = JSON.parse(text);
      // datasets-server wraps each row: {"row_idx": n, "row": {...}}
      if (value && typeof value === 'object' && 'row_idx' in value && 'row' in value) value = value.row;
      return { kind: 'record', value, origin: { row, line: elemStartLine }, badUtf8: bad };
    } catch (e) {
      return { kind: 'issue', issue: { row, line: elemStartLine, reason: 'malformed-json', message: jsonError(e, text) } };
    }
  };

  for (let chunk = await reader.next(); chunk; chunk = await reader.next()) {
    let i = 0;
    if (firstByte && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    firstByte = false;
    let elemStart = inElement ? 0 : -1;
    const out: RawItem[] = [];
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x0a) line++;
      if (inString) {
        if (escape) escape = false;
        else if (c === 0x5c) escape = true;
        else if (c === 0x22) {
          inString = false;
          if (keyBytes) {
            lastKey = new TextDecoder().decode(new Uint8Array(keyBytes));
            keyBytes = null;
          }
        } else if (keyBytes) keyBytes.push(c);
        continue;
      }
      if (WS[c]) continue;
      if (started && depth === 0) {
        // The document closed; anything else would be silently ignored (two arrays pasted together, a log tail).
        throw new DataFileError(file, `has more content after the JSON ${topIsObject ? 'object' : 'array'} ends (line ${line}, ${JSON.stringify(String.fromCharCode(c))}); one document per file (or use JSON Lines, one record per line)`);
      }
      if (!started) {
        started = true;
        if (c === 0x5b) elemDepth = 1;
        else if (c === 0x7b) topIsObject = true;
        else throw new DataFileError(file, 'is not a JSON array or object (first character ' + JSON.stringify(String.fromCharCode(c)) + ')');
      }
      // An element begins at the first significant byte at element depth.
      if (!inElement && elemDepth > 0 && depth === elemDepth && c !== 0x2c && c !== 0x5d) {
        inElement = true;
        elemStart = i;
        elemStartLine = line;
      }
      if (inElement && depth === elemDepth && (c === 0x2c || c === 0x5d)) {
        elemParts.push(chunk.subarray(elemStart, i));
        out.push(finishElement());
        elemStart = -1;
      }
      if (topIsObject && depth === 1 && elemDepth < 0) {
        if (c === 0x22 && !expectValueOfKey) keyBytes = [];
        else if (c === 0x3a) expectValueOfKey = true;
        else if (expectValueOfKey) {
          expectValueOfKey = false;
          if (c === 0x5b && (jsonKey === undefined || jsonKey === lastKey)) elemDepth = 2;
          else if (c === 0x5b) skippedKeys.push(lastKey);
          else otherKeys.push(lastKey);
        }
      } else if (topIsObject && depth === 1 && elemDepth === -2) {
        if (c === 0x22 && !expectValueOfKey) keyBytes = [];
        else if (c === 0x3a) expectValueOfKey = true;
        else if (expectValueOfKey) {
          expectValueOfKey = false;
          if (c === 0x5b) skippedKeys.push(lastKey);
        }
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (elemDepth > 0 && depth === elemDepth - 1) elemDepth = -2;
        if (depth < 0) throw new DataFileError(file, `unbalanced JSON: unexpected ${String.fromCharCode(c)} at line ${line}`);
      }
    }
    if (inElement) elemParts.push(chunk.slice(elemStart < 0 ? 0 : elemStart));
    for (const item of out) yield item;
  }
  if (!started) throw new DataFileError(file, 'is empty');
  if (elemDepth === -1) {
    throw new DataFileError(
      file,
      jsonKey !== undefined
        ? `has no array under key ${JSON.stringify(jsonKey)} (keys: ${[...otherKeys, ...skippedKeys].join(', ') || 'none'})`
        : `is a JSON object with no array of rows in it (keys: ${otherKeys.join(', ') || 'none'})`,
    );
  }
  if (depth !== 0 || inString) {
    notes.warnings.push(`the JSON document ends before it closes at line ${line} (truncated?)`);
    if (inElement) {
      row++;
      yield {
        kind: 'issue',
        issue: { row, line: elemStartLine, reason: 'malformed-json', message: 'the file ends inside this element (truncated)' },
      };
    }
  }
  if (skippedKeys.length) notes.warnings.push(`read the first array only; also found arrays under ${skippedKeys.join(', ')} (choose one with jsonKey)`);
}
