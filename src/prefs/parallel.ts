// Parallel text in: source, reference and language pair per record from any container the data layer reads
// (JSONL, JSON, CSV/TSV, Parquet, gzipped), or two line-aligned text files; optional columns holding other
// systems' outputs (the WMT22 sets' gpt4, alma13b_lora, …) become extra candidates.
import { openRecords, type DataSource, type OpenedRecords, type RowIssue, type RowOrigin } from '../data/index.ts';
import { RowProblem, getPath, isRecord, textAt, type Rec } from '../data/rows/fields.ts';
import { parseLangPair } from '../data/rows/languages.ts';
import { findLangSpec, resolveLangs, SOURCE_KEYS, type LangSpec } from '../data/rows/translation.ts';
import type { ParallelRow } from './types.ts';

export const REFERENCE_KEYS = ['ref', 'reference', 'target', 'tgt', 'target_text', 'tgt_text'];
const ID_KEYS = ['id', 'sid', 'segment_id'];

export interface ParallelColumns {
  source?: string;
  reference?: string;
  /** Column holding "de-en"-style pairs (default: detected — lp, language_pair, src_lang/tgt_lang, …). */
  langPair?: string;
  /** Columns whose text joins the candidates; 'all': every other text column (not id, source, reference, pair). */
  systems?: string[] | 'all';
}

export interface ParallelOptions {
  /** Keep only this direction ("de-en"); required when the file names no language pair. */
  pair?: string;
  columns?: ParallelColumns;
  /** Stop after this many usable rows. */
  limit?: number;
  /** Issues listed (all are counted). */
  maxListedIssues?: number;
}

export interface ParallelReport {
  file: string;
  container: string;
  rowsRead: number;
  usable: number;
  /** Rows of another direction than `pair`. */
  otherPairs: number;
  issues: RowIssue[];
  issueCount: number;
  systems: string[];
  columns: { source: string; reference: string; langs: string; id?: string };
}

export interface ParallelRead {
  rows: ParallelRow[];
  report: ParallelReport;
}

const firstKey = (keys: Set<string>, names: readonly string[]) => names.find((k) => keys.has(k));

interface Layout {
  source: string;
  reference: string;
  langs: LangSpec;
  id?: string;
  systems: string[];
}

function layoutOf(file: string, sample: Rec, o: ParallelOptions): Layout {
  const keys = new Set(Object.keys(sample));
  const cols = o.columns ?? {};
  const source = cols.source ?? firstKey(keys, SOURCE_KEYS);
  const reference = cols.reference ?? firstKey(keys, REFERENCE_KEYS);
  const have = [...keys].slice(0, 30).join(', ');
  if (!source) throw new Error(`${file}: no source column (expected one of ${SOURCE_KEYS.join(', ')}, or name it); columns: ${have}`);
  if (!reference) throw new Error(`${file}: no reference column (expected one of ${REFERENCE_KEYS.join(', ')}, or name it); columns: ${have}`);
  for (const [what, c] of [['source', source], ['reference', reference]]) {
    if (getPath(sample, c) === undefined) throw new Error(`${file}: the ${what} column ${JSON.stringify(c)} is not in the first record; columns: ${have}`);
  }
  const detected = cols.langPair ? { pairColumn: cols.langPair } : findLangSpec(sample);
  const langs: LangSpec | undefined = detected ?? (o.pair ? { fixed: o.pair } : undefined);
  if (!langs) throw new Error(`${file}: no language pair column (lp, language_pair, src_lang/tgt_lang); give the pair (e.g. de-en)`);
  const id = firstKey(keys, ID_KEYS);
  const taken = new Set([source, reference, id, langs.pairColumn, langs.srcColumn, langs.tgtColumn]);
  let systems: string[] = [];
  if (cols.systems === 'all') systems = [...keys].filter((k) => !taken.has(k) && typeof sample[k] === 'string');
  else if (cols.systems) {
    const missing = cols.systems.filter((s) => !keys.has(s));
    if (missing.length) throw new Error(`${file}: system column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} not in the first record; columns: ${have}`);
    systems = cols.systems;
  }
  return { source, reference, langs, id, systems };
}

/** Reads parallel rows from a data file (any container of src/data). */
export async function readParallel(source: DataSource, o: ParallelOptions & { name?: string } = {}): Promise<ParallelRead> {
  return readParallelRecords(await openRecords(source, { name: o.name }), o);
}

/** Parallel rows from records already opened: one file's (openRecords) or a Hub split's shards (openParquetParts). */
export async function readParallelRecords(opened: OpenedRecords, o: ParallelOptions = {}): Promise<ParallelRead> {
  const want = o.pair ? parseLangPair(o.pair, 'pair').join('-') : undefined;
  const maxListed = o.maxListedIssues ?? 20;
  const rows: ParallelRow[] = [];
  let layout: Layout | null = null;
  const report: ParallelReport = {
    file: opened.file,
    container: opened.container,
    rowsRead: 0,
    usable: 0,
    otherPairs: 0,
    issues: [],
    issueCount: 0,
    systems: [],
    columns: { source: '', reference: '', langs: '' },
  };
  const issue = (i: RowIssue) => {
    report.issueCount++;
    if (report.issues.length < maxListed) report.issues.push(i);
  };
  for await (const item of opened.items) {
    if (o.limit !== undefined && rows.length >= o.limit) break;
    if (item.kind === 'blank') continue;
    report.rowsRead++;
    if (item.kind === 'issue') {
      issue(item.issue);
      continue;
    }
    const { value, origin } = item;
    if (!isRecord(value)) {
      issue({ ...origin, reason: 'not-an-object', message: 'record is not an object' });
      continue;
    }
    if (!layout) {
      layout = layoutOf(opened.file, value, { ...o, pair: want });
      const l = layout.langs;
      report.columns = { source: layout.source, reference: layout.reference, langs: l.fixed ? `fixed ${l.fixed}` : (l.pairColumn ?? `${l.srcColumn}/${l.tgtColumn}`), id: layout.id };
      report.systems = layout.systems;
    }
    try {
      const row = parallelRow(value, origin, layout, rows.length);
      if (want && `${row.src}-${row.tgt}` !== want) {
        report.otherPairs++;
        continue;
      }
      rows.push(row);
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      issue({ row: origin.row, line: origin.line, field: e.field, reason: e.reason, message: e.message });
    }
  }
  report.usable = rows.length;
  if (rows.length === 0) throw new Error(`${opened.file}: no usable parallel rows${want ? ` for ${want}` : ''} (${report.rowsRead} read, ${report.otherPairs} of other pairs, ${report.issueCount} with problems${report.issues[0] ? `, e.g. line ${report.issues[0].line ?? report.issues[0].row}: ${report.issues[0].message}` : ''})`);
  return { rows, report };
}

function parallelRow(rec: Rec, origin: RowOrigin, l: Layout, index: number): ParallelRow {
  const [src, tgt] = resolveLangs(rec, l.langs);
  const idv = l.id === undefined ? undefined : getPath(rec, l.id);
  const systems: ParallelRow['systems'] = [];
  for (const name of l.systems) {
    // A missing or empty system output is no candidate; anything else that is not text is a problem.
    const v = getPath(rec, name);
    if (v === undefined || v === null || v === '') continue;
    systems.push({ name, text: textAt(rec, name) });
  }
  return {
    index,
    origin,
    id: idv === undefined || idv === null ? undefined : String(idv),
    src,
    tgt,
    source: textAt(rec, l.source),
    reference: textAt(rec, l.reference),
    systems,
  };
}

/** Two line-aligned texts (sources, references) in one direction. Names are for messages. */
export function parallelFromLines(sources: string[], references: string[], pair: string, names: [string, string]): ParallelRead {
  if (sources.length !== references.length) throw new Error(`${names[0]} has ${sources.length} lines but ${names[1]} has ${references.length}`);
  const [src, tgt] = parseLangPair(pair, 'pair');
  const rows: ParallelRow[] = [];
  const issues: RowIssue[] = [];
  sources.forEach((s, i) => {
    const line = i + 1;
    if (s.trim() === '' || references[i].trim() === '') {
      issues.push({ row: i, line, field: s.trim() === '' ? names[0] : names[1], reason: 'empty-text', message: `line ${line} is empty in ${s.trim() === '' ? names[0] : names[1]}` });
      return;
    }
    rows.push({ index: rows.length, origin: { row: i, line }, src, tgt, source: s, reference: references[i], systems: [] });
  });
  if (rows.length === 0) throw new Error(`${names[0]}: no usable lines`);
  return {
    rows,
    report: {
      file: names[0],
      container: 'text',
      rowsRead: sources.length,
      usable: rows.length,
      otherPairs: 0,
      issues: issues.slice(0, 20),
      issueCount: issues.length,
      systems: [],
      columns: { source: names[0], reference: names[1], langs: `fixed ${src}-${tgt}` },
    },
  };
}
