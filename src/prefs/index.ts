// Preference data from parallel text, ALMA-R's recipe: candidates from the loaded model (and the reference and
// any given system outputs), sentence chrF++/chrF/BLEU against the reference, chosen = best, rejected = worst
// (or a random lower one), written in TRL's format with the ALMA prompt. No node:* imports (node-store.ts aside).
export type { ParallelRow, PrefsMetric, ScoredCandidate, RejectRule, Selection, DropReason, PrefRecord } from './types.ts';
export { PREFS_METRICS, REJECT_RULES } from './types.ts';
export { readParallel, readParallelRecords, parallelFromLines, REFERENCE_KEYS, type ParallelColumns, type ParallelOptions, type ParallelReport, type ParallelRead } from './parallel.ts';
export { decoderCandidates, checkCandidateOptions, DEFAULT_CANDIDATES, type CandidateOptions, type CandidateSource, type BatchCandidates } from './candidates.ts';
export { sentenceScore, scoreCandidates, parseMetric } from './score.ts';
export { selectPair, rowSeed, DEFAULT_SELECT, type SelectOptions } from './select.ts';
export { outputRow, toJsonl, type PrefsOutputRow } from './output.ts';
export { PrefsBuilder, buildRecord, buildFingerprint, type BuildSettings, type BuildProgress } from './builder.ts';
export { MemoryPrefsStore, emptyStats, type PrefsStore, type PrefsMeta, type PrefsStats } from './store.ts';
