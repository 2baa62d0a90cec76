// Public API of the preference-data layer (see README.md in this folder).
export { readPreferenceFile, streamPreferenceRows, openRecords, openParquetParts, type ReadOptions, type ReadResult, type Detected, type OpenedRecords } from './read.ts';
export { tokenizePairs, withTokenization, buildTokenizedAnswer, renderChat, type TokenizeOptions, type TokenizeResult, type TruncationMode } from './tokenize.ts';
export { PairBatcher, pairLength, type BatcherOptions, type BatcherCursor, type PairBatch } from './batcher.ts';
export { formatReport } from './report.ts';
export { blobSource, bytesSource, type DataSource, type RandomAccessSource, type ProgressCallback } from './source.ts';
export { extractPrompt } from './rows/trl.ts';
export { almaChoose } from './rows/alma-r.ts';
export { almaPrompt, languageCode, languageName, LANGUAGE_NAMES } from './rows/languages.ts';
export * from './types.ts';
export type { RawItem } from './containers/record.ts';
