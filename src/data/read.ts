// readPreferenceFile: source → container parser → row layout → validated PreferenceRows + report.
// Works the same in a worker, in Node (via node-file.ts) and in tests; nothing here imports node:*.
import { parseDelimited } from './containers/csv.ts';
import { parseJsonDocument } from './containers/json.ts';
import { parseJsonl } from './containers/jsonl.ts';
import { decodeUtf8 } from './containers/lines.ts';
import type { ContainerNotes, RawItem } from './containers/record.ts';
import { readParquet } from './parquet/reader.ts';
import { addIssue, DEFAULT_MAX_LISTED_ISSUES, emptyReport } from './report.ts';
import { convertRecord, detectFormat, translationFieldsFrom, type ConvertSettings } from './rows/detect.ts';
import { fieldWithReplacementChar, isRecord, type Rec } from './rows/fields.ts';
import {
  blobSource,
  bytesSource,
  ChunkReader,
  countingStream,
  gunzip,
  isRandomAccess,
  readAll,
  type DataSource,
  type ProgressCallback,
  type RandomAccessSource,
} from './source.ts';
import {
  DataFileError,
  type AlmaScorer,
  type ColumnMapping,
  type Container,
  type PreferenceRow,
  type RowFormat,
  type ValidationReport,
} from './types.ts';

export interface ReadOptions {
  /** Override container detection (extension and magic bytes). */
  container?: Container;
  /** Override row-layout detection. 'mapping' needs `mapping`. */
  format?: RowFormat;
  /** Column mapping; implies format 'mapping' unless format is given. */
  mapping?: ColumnMapping;
  /** ALMA-R quality score that ranks candidates (default kiwi_xcomet, as ALMA-R's training script). */
  scorer?: AlmaScorer;
  /** ALMA-R: directions to make, e.g. ["de-en", "en-de"]; all by default. */
  directions?: string[];
  /** JSON documents: the key of the top-level object whose array holds the rows (default: the first array). */
  jsonKey?: string;
  /** Text put between the ALMA prompt and each translation (ALMA uses none). */
  answerPrefix?: string;
  /** File name for messages and extension-based detection (defaults to the File's or source's name). */
  name?: string;
  /** Size in bytes for progress, when the source is a bare stream. */
  totalBytes?: number;
  onProgress?: ProgressCallback;
  /** Cap on listed issues (all are counted). */
  maxListedIssues?: number;
  /** Flag exact repeats of (prompt, chosen, rejected) as duplicate-pair (default true). */
  dropDuplicates?: boolean;
}

export interface Detected {
  container: Container;
  format: RowFormat;
  gzip: boolean;
}

export interface ReadResult {
  rows: PreferenceRow[];
  report: ValidationReport;
  detected: Detected;
}

const DETECT_SAMPLE = 20;

export async function readPreferenceFile(source: DataSource, options: ReadOptions = {}): Promise<ReadResult> {
  const rows: PreferenceRow[] = [];
  const { report, detected } = await streamPreferenceRows(source, options, (r) => rows.push(r));
  return { rows, report, detected };
}

/** A file's decoded records, container detected (and gzip undone), before any row layout is applied. */
export interface OpenedRecords {
  file: string;
  container: Container;
  gzip: boolean;
  items: AsyncGenerator<RawItem>;
  /** Container-level warnings collected while parsing (filled as `items` is consumed). */
  notes: ContainerNotes;
  /** Bytes read so far; size of the source when known. */
  counter: { bytes: number };
  total: number | undefined;
  /** Size of a random-access source (undefined for a bare stream). */
  sourceSize: number | undefined;
}

/**
 * The records of any container this layer reads (JSONL, JSON, CSV/TSV, Parquet, gzipped or not), as they come:
 * what streamPreferenceRows turns into preference rows, and what other consumers (parallel text for
 * src/prefs) read with their own row rules.
 */
export async function openRecords(source: DataSource, options: Pick<ReadOptions, 'container' | 'jsonKey' | 'name' | 'totalBytes' | 'onProgress'> = {}): Promise<OpenedRecords> {
  const ra: RandomAccessSource | null = isRandomAccess(source)
    ? source
    : typeof Blob !== 'undefined' && source instanceof Blob
      ? blobSource(source, options.name)
      : null;
  const file = options.name ?? ra?.name ?? 'stream';
  const total = options.totalBytes ?? ra?.size;
  const counter = { bytes: 0 };
  const rawStream = ra ? ra.stream() : (source as ReadableStream<Uint8Array>);
  const { ext, gz: gzExt } = extensionOf(file);

  let reader = new ChunkReader(countingStream(rawStream, total, options.onProgress, counter), file);
  const head = await reader.peek(4);
  if (head.length === 0) throw new DataFileError(file, 'is empty');
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  if (gzExt && !gzip) throw new DataFileError(file, 'is named .gz but is not gzip data');
  if (gzip) reader = new ChunkReader(gunzip(reader.toStream()), file, 'gzip decompression');
  const inner = await reader.peek(65536);
  if (gzip && inner.length === 0) throw new DataFileError(file, 'is empty (after gzip decompression)');
  const isParquet = inner[0] === 0x50 && inner[1] === 0x41 && inner[2] === 0x52 && inner[3] === 0x31;
  const container = options.container ?? sniffContainer(file, ext, inner, isParquet);

  const notes: ContainerNotes = { warnings: [] };
  let items: AsyncGenerator<RawItem>;
  if (container === 'parquet') {
    if (!isParquet) throw new DataFileError(file, 'is not Parquet (no "PAR1" magic at the start)');
    let pq: RandomAccessSource;
    if (ra && !gzip) {
      await reader.cancel();
      pq = ra;
    } else {
      // Parquet needs random access: a bare stream or a gzipped file is buffered once.
      pq = bytesSource(await readAll(reader), file);
    }
    items = readParquet(pq, file, ra && !gzip ? (n) => {
      counter.bytes = n;
      options.onProgress?.(n, total);
    } : undefined);
  } else {
    if (isParquet) throw new DataFileError(file, `is a Parquet file, not ${container}`);
    checkText(file, inner, container);
    if (container === 'jsonl') items = parseJsonl(reader);
    else if (container === 'json') items = parseJsonDocument(reader, file, notes, options.jsonKey);
    else items = parseDelimited(reader, container === 'csv' ? ',' : '\t', file, notes);
  }
  return { file, container, gzip, items, notes, counter, total, sourceSize: ra?.size };
}

/** Like readPreferenceFile but hands each usable row to `onRow` instead of collecting them. */
export async function streamPreferenceRows(
  source: DataSource,
  options: ReadOptions,
  onRow: (row: PreferenceRow) => void,
): Promise<{ report: ValidationReport; detected: Detected }> {
  const { file, container, gzip, items, notes, counter, total, sourceSize } = await openRecords(source, options);
  const report = await consumeItems(items, { file, container, options, notes }, onRow);
  report.bytesRead = container === 'parquet' && sourceSize !== undefined ? sourceSize : counter.bytes;
  options.onProgress?.(total ?? report.bytesRead, total);
  return { report, detected: { container, format: report.format, gzip } };
}

/**
 * The records of several Parquet files as one dataset (the shards of a Hub split): rows numbered across the
 * files, as openRecords gives one file's. `onProgress` counts bytes of all the files.
 */
export function openParquetParts(parts: RandomAccessSource[], options: Pick<ReadOptions, 'name' | 'onProgress'> = {}): OpenedRecords {
  const file = options.name ?? parts[0]?.name ?? 'dataset';
  if (!parts.length) throw new DataFileError(file, 'has no files');
  const total = parts.reduce((s, p) => s + p.size, 0);
  const counter = { bytes: 0 };
  async function* chain(): AsyncGenerator<RawItem> {
    let offset = 0;
    let done = 0;
    for (const part of parts) {
      let last = 0;
      for await (const item of readParquet(part, part.name, (n) => {
        counter.bytes = done + n;
        options.onProgress?.(done + n, total);
      })) {
        if (item.kind === 'record') {
          last = item.origin.row;
          yield { ...item, origin: { row: offset + item.origin.row, line: offset + item.origin.row } };
        } else yield item;
      }
      offset += last;
      done += part.size;
    }
  }
  return { file, container: 'parquet', gzip: false, items: chain(), notes: { warnings: [] }, counter, total, sourceSize: total };
}

/**
 * Rows from several Parquet files read as one dataset (the shards of a Hub split): rows are numbered across
 * the files, duplicates are found across them, and there is one report, named `options.name`.
 */
export async function readPreferenceParts(parts: RandomAccessSource[], options: ReadOptions = {}): Promise<ReadResult> {
  const { file, items, notes, total } = openParquetParts(parts, options);
  const rows: PreferenceRow[] = [];
  const report = await consumeItems(items, { file, container: 'parquet', options, notes }, (r) => rows.push(r));
  report.bytesRead = total!;
  options.onProgress?.(total!, total);
  return { rows, report, detected: { container: 'parquet', format: report.format, gzip: false } };
}

interface ConsumeContext {
  file: string;
  container: Container;
  options: ReadOptions;
  notes: ContainerNotes;
}

/** Validation, layout detection and duplicate detection over a container's raw items, into one report. */
async function consumeItems(items: AsyncGenerator<RawItem>, ctx: ConsumeContext, onRow: (row: PreferenceRow) => void): Promise<ValidationReport> {
  const { file, container, options } = ctx;
  const format0: RowFormat = options.format ?? (options.mapping ? 'mapping' : 'trl');
  const report = emptyReport(file, container, format0);
  // The container's warnings land in the report as they are found (the parsers push into notes.warnings).
  ctx.notes.warnings = report.warnings;
  const settings: ConvertSettings = {
    format: format0,
    mapping: options.mapping,
    scorer: options.scorer ?? 'kiwi_xcomet',
    directions: options.directions,
    answerPrefix: options.answerPrefix ?? '',
    jsonCells: container === 'csv' || container === 'tsv',
  };
  const maxListed = options.maxListedIssues ?? DEFAULT_MAX_LISTED_ISSUES;
  const seen = new Map<number, number>();
  const dedupe = options.dropDuplicates ?? true;

  const handle = (item: RawItem) => {
    if (item.kind === 'blank') {
      report.blankLines++;
      return;
    }
    report.rowsRead++;
    if (item.kind === 'issue') {
      addIssue(report, item.issue, maxListed);
      return;
    }
    const { value, origin } = item;
    if (!isRecord(value)) {
      addIssue(report, { ...origin, reason: 'not-an-object', message: `record is ${Array.isArray(value) ? 'a list' : JSON.stringify(value)?.slice(0, 40)}, not an object` }, maxListed);
      return;
    }
    if (item.badUtf8) {
      addIssue(report, { ...origin, field: fieldWithReplacementChar(value), reason: 'invalid-utf8', message: 'the record holds bytes that are not valid UTF-8' }, maxListed);
      return;
    }
    const out = convertRecord(value, origin, settings);
    report.skippedDirections += out.skippedDirections;
    for (const issue of out.issues) addIssue(report, issue, maxListed);
    for (const row of out.rows) {
      const lone = loneSurrogateField(row);
      if (lone) {
        addIssue(report, { ...origin, field: lone, reason: 'invalid-utf8', message: 'holds a lone surrogate (an unpaired \\ud800-\\udfff escape): not valid Unicode text, it cannot be tokenized faithfully' }, maxListed);
        continue;
      }
      if (sameCompletion(row)) {
        addIssue(report, { ...origin, field: 'chosen', reason: 'identical-pair', message: `chosen and rejected are identical${row.langPair ? ` (${row.langPair})` : ''}` }, maxListed);
        continue;
      }
      if (dedupe) {
        const h = rowHash(row);
        const first = seen.get(h);
        if (first !== undefined) {
          addIssue(report, { ...origin, reason: 'duplicate-pair', message: `same prompt, chosen and rejected as row ${first}` }, maxListed);
          continue;
        }
        seen.set(h, origin.row);
      }
      report.rowsUsable++;
      if (row.langPair) report.languagePairs[row.langPair] = (report.languagePairs[row.langPair] ?? 0) + 1;
      onRow(row);
    }
  };

  // The first records decide the layout, so they wait in a small buffer until it is known.
  let pending: RawItem[] | null = options.format || options.mapping ? null : [];
  const decide = () => {
    const samples = pending!.filter((i): i is Extract<RawItem, { kind: 'record' }> => i.kind === 'record' && isRecord(i.value)).map((i) => i.value as Rec);
    const format = detectFormat(samples);
    if (!format && samples.length) {
      const cols = [...new Set(samples.flatMap((s) => Object.keys(s)))].slice(0, 30);
      throw new DataFileError(
        file,
        `cannot tell the row layout from its columns (${cols.join(', ')}); expected prompt/chosen/rejected (TRL), ` +
          'source + language pair + chosen/rejected (translation) or translation{language_pair, gpt4_xx, …} (ALMA-R); ' +
          'give a column mapping',
      );
    }
    settings.format = report.format = format ?? 'trl';
    if (format === 'translation') settings.translation = translationFieldsFrom(samples);
    const buffered = pending!;
    pending = null;
    buffered.forEach(handle);
  };

  try {
    for await (const item of items) {
      if (pending) {
        pending.push(item);
        if (pending.filter((i) => i.kind === 'record').length >= DETECT_SAMPLE) decide();
      } else handle(item);
    }
    if (pending) decide();
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    throw new DataFileError(file, `could not be read: ${(e as Error).message ?? e}`);
  }
  return report;
}

function extensionOf(name: string): { ext: string; gz: boolean } {
  let n = name.toLowerCase();
  const gz = n.endsWith('.gz');
  if (gz) n = n.slice(0, -3);
  const dot = n.lastIndexOf('.');
  return { ext: dot >= 0 ? n.slice(dot + 1) : '', gz };
}

const EXT: Record<string, Container> = {
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  jsonlines: 'jsonl',
  json: 'json',
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  parquet: 'parquet',
  pq: 'parquet',
};

/** Magic bytes and content win over the extension, which only breaks ties between text layouts. */
function sniffContainer(file: string, ext: string, head: Uint8Array, isParquet: boolean): Container {
  if (isParquet) return 'parquet';
  const byExt = EXT[ext];
  if (byExt === 'parquet') throw new DataFileError(file, 'is named .parquet but does not start with Parquet\'s "PAR1" magic (damaged, or another format renamed)');
  const text = decodeUtf8(head.subarray(0, Math.min(head.length, 65536))).text.replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === '[') return 'json';
  if (first === '{') {
    if (byExt === 'jsonl' || byExt === 'json') {
      // A .json file holding one object per line is JSON Lines (and vice versa for one pretty-printed object).
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length >= 2 && lines[1].trimStart().startsWith('{') && parses(lines[0])) return 'jsonl';
      // Only a pretty-printed document (a first line that opens and no more) is JSON; a .jsonl whose lines all
      // fail to parse stays JSON Lines, so each bad line is reported with its number.
      if (byExt === 'jsonl' && lines.length >= 2 && /^\s*\{\s*$/.test(lines[0])) return 'json';
      return byExt;
    }
    return parses(text.split('\n')[0]) ? 'jsonl' : 'json';
  }
  if (byExt === 'csv' || byExt === 'tsv') return byExt;
  if (byExt === 'json' || byExt === 'jsonl') return byExt;
  const firstLine = text.split('\n')[0];
  if (firstLine.includes('\t')) return 'tsv';
  if (firstLine.includes(',')) return 'csv';
  throw new DataFileError(file, 'is not in a format this reader knows (JSON Lines, JSON, CSV, TSV or Parquet, optionally gzipped)');
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function checkText(file: string, head: Uint8Array, container: Container): void {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new DataFileError(file, 'is UTF-16 text; save it as UTF-8');
  }
  const n = Math.min(head.length, 4096);
  let nul = 0;
  for (let i = 0; i < n; i++) if (head[i] === 0) nul++;
  if (nul > 0) throw new DataFileError(file, `looks like binary data (NUL bytes), not ${container} text`);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The field of a row holding an unpaired UTF-16 surrogate (JSON can escape one; UTF-8 cannot encode it). */
function loneSurrogateField(row: PreferenceRow): string | null {
  for (const f of ['prompt', 'chosen', 'rejected'] as const) {
    const v = row[f];
    if (hasLoneSurrogate(v)) return f;
  }
  return null;
}

// JSON.stringify escapes lone surrogates, so chat messages are walked rather than stringified.
function hasLoneSurrogate(v: unknown): boolean {
  if (typeof v === 'string') return LONE_SURROGATE.test(v);
  if (Array.isArray(v)) return v.some(hasLoneSurrogate);
  if (v && typeof v === 'object') return Object.values(v).some(hasLoneSurrogate);
  return false;
}

function sameCompletion(row: PreferenceRow): boolean {
  if (row.kind === 'text') return row.chosen === row.rejected;
  return JSON.stringify(row.chosen) === JSON.stringify(row.rejected);
}

/** 52-bit hash of the whole pair: two FNV-1a passes with different offsets. Collisions are negligible at dataset sizes. */
function rowHash(row: PreferenceRow): number {
  const s =
    row.kind === 'text'
      ? `${row.prompt}\u0000${row.chosen}\u0000${row.rejected}`
      : JSON.stringify([row.prompt, row.chosen, row.rejected]);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}
