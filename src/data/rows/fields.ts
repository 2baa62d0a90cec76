// Reading fields out of a decoded record, turning every way a field can be unusable into a RowProblem
// that names the field and the reason.
import { InvalidUtf8 } from '../parquet/invalid-utf8.ts';
import type { ChatMessage, IssueReason } from '../types.ts';

export class RowProblem extends Error {
  constructor(
    readonly field: string | undefined,
    readonly reason: IssueReason,
    message: string,
  ) {
    super(message);
  }
}

export type Rec = Record<string, unknown>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof InvalidUtf8) && !(v instanceof Uint8Array);
}

/** Exact key first (column names can contain dots), then a dotted path into nested objects. */
export function getPath(rec: Rec, path: string): unknown {
  if (path in rec) return rec[path];
  let cur: unknown = rec;
  for (const part of path.split('.')) {
    if (!isRecord(cur) || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function has(rec: Rec, path: string): boolean {
  const v = getPath(rec, path);
  return v !== undefined && v !== null;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A string field; empty (whitespace-only) text is a problem unless allowEmpty. */
export function textAt(rec: Rec, path: string, allowEmpty = false): string {
  return asText(getPath(rec, path), path, allowEmpty);
}

export function asText(v: unknown, field: string, allowEmpty = false): string {
  if (v === undefined || v === null) throw new RowProblem(field, 'missing-field', `${field} is missing`);
  if (v instanceof InvalidUtf8) throw new RowProblem(field, 'invalid-utf8', `${field} is not valid UTF-8`);
  if (typeof v !== 'string') throw new RowProblem(field, 'non-string-field', `${field} is ${typeName(v)}, not text`);
  if (!allowEmpty && v.trim() === '') throw new RowProblem(field, 'empty-text', `${field} is empty`);
  return v;
}

export function numberAt(rec: Rec, path: string): number {
  const v = getPath(rec, path);
  if (v === undefined || v === null || v === '') throw new RowProblem(path, 'missing-field', `${path} is missing`);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new RowProblem(path, 'bad-value', `${path} is not a number (${JSON.stringify(v)})`);
  return n;
}

/** A list of {role, content} messages; CSV cells may carry it as JSON text. */
export function asMessages(v: unknown, field: string, jsonCells: boolean): ChatMessage[] {
  if (jsonCells && typeof v === 'string' && v.trimStart().startsWith('[')) {
    try {
      v = JSON.parse(v);
    } catch {
      throw new RowProblem(field, 'malformed-json', `${field} looks like a JSON message list but does not parse`);
    }
  }
  if (v === undefined || v === null) throw new RowProblem(field, 'missing-field', `${field} is missing`);
  if (!Array.isArray(v)) throw new RowProblem(field, 'non-string-field', `${field} is ${typeName(v)}, not a list of messages`);
  return v.map((m, i) => {
    const f = `${field}[${i}]`;
    if (!isRecord(m)) throw new RowProblem(f, 'non-string-field', `${f} is ${typeName(m)}, not a {role, content} message`);
    return { role: asText(m.role, `${f}.role`), content: asText(m.content, `${f}.content`, true) };
  });
}

/** Whether a record's value looks like a message list (for format detection and per-row dispatch). */
export function looksConversational(v: unknown, jsonCells: boolean): boolean {
  if (Array.isArray(v)) return v.length === 0 || isRecord(v[0]);
  return jsonCells && typeof v === 'string' && /^\s*\[\s*(\{|\])/.test(v);
}

/** For rows decoded leniently from bad UTF-8: the first top-level field holding U+FFFD. */
export function fieldWithReplacementChar(rec: unknown): string | undefined {
  if (!isRecord(rec)) return undefined;
  for (const [k, v] of Object.entries(rec)) if (JSON.stringify(v ?? null).includes('\uFFFD')) return k;
  return undefined;
}
