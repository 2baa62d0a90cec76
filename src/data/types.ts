// Shapes shared by the data layer: what a parse yields and what the validation report holds.
// Everything here is plain data so a worker can postMessage it and the CLI can JSON.stringify it.
import type { ChatMessage } from '../model/tokenizer.ts';

export type { ChatMessage };

export type Container = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet';
export type RowFormat = 'trl' | 'translation' | 'alma-r' | 'mapping';
export type AlmaScorer = 'kiwi' | 'xcomet' | 'kiwi_xcomet';

/** Where a row came from: `row` is the 1-based record number; `line` the 1-based line it starts on (text containers). */
export interface RowOrigin {
  row: number;
  line?: number;
}

interface RowBase {
  /** 1-based line number in the file where the record starts (the row number for Parquet). */
  line: number;
  /** 1-based record number in the file (an ALMA-R record yields up to two rows with the same number). */
  row: number;
  /** Language pair of translation rows, "src-tgt" codes, e.g. "de-en". */
  langPair?: string;
}

export interface TextPreferenceRow extends RowBase {
  kind: 'text';
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface ChatPreferenceRow extends RowBase {
  kind: 'chat';
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

export type PreferenceRow = TextPreferenceRow | ChatPreferenceRow;

export type IssueReason =
  | 'malformed-json'
  | 'malformed-csv'
  | 'not-an-object'
  | 'invalid-utf8'
  | 'missing-field'
  | 'non-string-field'
  | 'empty-text'
  | 'identical-pair'
  | 'duplicate-pair'
  | 'unknown-language'
  | 'bad-value'
  | 'prompt-too-long'
  | 'too-long'
  | 'tokenization';

export const ISSUE_REASONS: readonly IssueReason[] = [
  'malformed-json',
  'malformed-csv',
  'not-an-object',
  'invalid-utf8',
  'missing-field',
  'non-string-field',
  'empty-text',
  'identical-pair',
  'duplicate-pair',
  'unknown-language',
  'bad-value',
  'prompt-too-long',
  'too-long',
  'tokenization',
];

export interface RowIssue {
  row: number;
  line?: number;
  /** The field at fault, dotted for nested ones ("translation.gpt4_en"), absent for whole-record problems. */
  field?: string;
  reason: IssueReason;
  message: string;
}

/** Column mapping for files in no known layout. Column names may be dotted paths into nested objects. */
export interface ColumnMapping {
  /** Column holding the prompt (plain text or a list of chat messages). */
  prompt?: string;
  /** Column holding the source sentence: rows are rendered with the ALMA translation prompt. */
  source?: string;
  chosen: string;
  rejected: string;
  /** Fixed language pair "src-tgt" for every row (translation mappings). */
  langPair?: string;
  /** Column holding the language pair ("de-en"). */
  langPairColumn?: string;
  srcLangColumn?: string;
  tgtLangColumn?: string;
}

export interface LengthHistogram {
  /** Upper bounds (inclusive) of the bins, in tokens; the last bin is open-ended. */
  edges: number[];
  counts: number[];
}

export interface TokenLengthStats {
  total: number;
  min: number;
  max: number;
  mean: number;
}

export interface TokenizationSummary {
  pairs: number;
  prompt: TokenLengthStats;
  chosen: TokenLengthStats;
  rejected: TokenLengthStats;
  /** Histogram of the longer of the two sequences, prompt + completion, after truncation. */
  histogram: LengthHistogram;
  truncatedPrompts: number;
  truncatedCompletions: number;
  droppedLongPrompts: number;
  /** Rows set aside as too long for the model (max_position_embeddings) or too long to tokenize at all (see tokenize.ts). */
  droppedTooLong: number;
  /** Rows kept longer than max_length: TRL 1.13 never cuts a prompt, so a long prompt stays whole. */
  overMaxLength: number;
  /** Rows where chosen and rejected disagreed on where the prompt ends (a tokenizer merge on one side only). */
  boundaryMismatches: number;
}

export interface ValidationReport {
  file: string;
  container: Container;
  format: RowFormat;
  bytesRead: number;
  /** Records read from the file (lines, CSV records, array elements, Parquet rows), blank lines excluded. */
  rowsRead: number;
  /** Preference rows produced and kept (ALMA-R records can yield two each). */
  rowsUsable: number;
  blankLines: number;
  /** ALMA-R directions not produced: required_directions or the directions option excluded them. */
  skippedDirections: number;
  /** Count of issues per reason: always complete, even when `issues` is capped. */
  counts: Partial<Record<IssueReason, number>>;
  issues: RowIssue[];
  /** Issues beyond the listing cap, counted but not listed. */
  issuesOmitted: number;
  /** Rows per language pair ("de-en" → n) for translation formats. */
  languagePairs: Record<string, number>;
  /** File-level problems that did not stop the parse (e.g. the file ends inside a quoted CSV field). */
  warnings: string[];
  tokenization?: TokenizationSummary;
}

export interface TokenizedPair {
  /** Index of the source row in the rows array given to tokenizePairs. */
  index: number;
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  /** One side's extra prompt token (masked, as TRL does) when only the other side's prompt merged with its answer. */
  chosenPromptTail?: number[];
  rejectedPromptTail?: number[];
}

/** A file that cannot be read at all: the message names the file and says why. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'DataFileError';
  }
}
