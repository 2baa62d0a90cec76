// The resumable build: parallel rows in fixed batches → the model's candidates → scores against the reference →
// chosen/rejected. After each batch its records go to the store (then the meta saying they count), so pausing,
// closing the tab or killing the process loses at most the batch in flight; a resume with the same settings,
// model and data continues at the next batch and writes the same output an uninterrupted build would.
import { Fingerprint } from '../util/hash.ts';
import type { CandidateOptions, CandidateSource } from './candidates.ts';
import { scoreCandidates } from './score.ts';
import { selectPair, type SelectOptions } from './select.ts';
import { emptyStats, type PrefsMeta, type PrefsStats, type PrefsStore } from './store.ts';
import type { ParallelRow, PrefRecord, PrefsMetric } from './types.ts';

export interface BuildSettings {
  metric: PrefsMetric;
  select: SelectOptions;
  candidates: CandidateOptions;
  /** Sources per batch (each decoded `candidates.n` times). Part of the fingerprint: batches seed the sampling. */
  batchSize: number;
}

export interface BuildProgress {
  done: number;
  total: number;
  stats: PrefsStats;
  /** Records of the batch just finished. */
  batch: PrefRecord[];
  /** Estimated time left from this session's pace (null before the first batch). */
  etaMs: number | null;
}

/** One source's record: its candidates scored and the pair selected. */
export function buildRecord(row: ParallelRow, modelTexts: readonly string[], metric: PrefsMetric, select: SelectOptions): PrefRecord {
  const candidates = scoreCandidates(row, modelTexts, metric);
  return {
    index: row.index,
    ...(row.id === undefined ? {} : { id: row.id }),
    lp: `${row.src}-${row.tgt}`,
    source: row.source,
    reference: row.reference,
    candidates,
    selection: selectPair(candidates, select, row.index),
  };
}

export function buildFingerprint(rows: readonly ParallelRow[], s: BuildSettings, modelId: string): string {
  const f = new Fingerprint().string(modelId).string(JSON.stringify(s)).number(rows.length);
  for (const r of rows) f.string(r.src).string(r.tgt).string(r.source).string(r.reference).string(JSON.stringify(r.systems));
  return f.hex();
}

export class PrefsBuilder {
  records: PrefRecord[] = [];
  stats: PrefsStats = emptyStats();
  private pauseRequested = false;
  private readonly fingerprint: string;

  constructor(
    readonly rows: readonly ParallelRow[],
    private readonly source: CandidateSource,
    readonly settings: BuildSettings,
    private readonly store: PrefsStore,
    readonly key: string,
    /** Names the model and adapter: a resume with another one is refused. */
    modelId: string,
  ) {
    if (!(Number.isInteger(settings.batchSize) && settings.batchSize >= 1)) throw new Error(`batch: must be a positive integer, got ${settings.batchSize}`);
    if (!(settings.select.margin >= 0)) throw new Error(`margin: must be ≥ 0, got ${settings.select.margin}`);
    this.fingerprint = buildFingerprint(rows, settings, modelId);
  }

  get done(): number {
    return this.records.length;
  }

  get finished(): boolean {
    return this.records.length >= this.rows.length;
  }

  /** Loads saved progress for this key; false when there is none. Saved progress of another build is an error. */
  async resume(): Promise<boolean> {
    const meta = await this.store.loadMeta(this.key);
    if (!meta) return false;
    if (meta.fingerprint !== this.fingerprint) {
      throw new Error(`saved build "${this.key}" was made with other settings, model or data (${meta.chunks} batches done); start over to replace it`);
    }
    const records: PrefRecord[] = [];
    for (let i = 0; i < meta.chunks; i++) {
      const chunk = await this.store.loadChunk(this.key, i);
      if (!chunk) throw new Error(`saved build "${this.key}": batch ${i} of ${meta.chunks} is missing; start over`);
      records.push(...chunk);
    }
    this.records = records;
    this.stats = meta.stats;
    return true;
  }

  /** Forgets saved progress (the next run starts at row 0). */
  async reset(): Promise<void> {
    await this.store.clear(this.key);
    this.records = [];
    this.stats = emptyStats();
  }

  /** Stops after the batch in flight; run() then resolves 'paused'. */
  pause(): void {
    this.pauseRequested = true;
  }

  async run(onProgress?: (p: BuildProgress) => void): Promise<'done' | 'paused'> {
    this.pauseRequested = false;
    const B = this.settings.batchSize;
    const t0 = performance.now();
    const doneAtStart = this.done;
    while (!this.finished) {
      if (this.pauseRequested) return 'paused';
      const batchIndex = this.done / B;
      const rows = this.rows.slice(this.done, this.done + B);
      const tb = performance.now();
      const gen = await this.source(rows, batchIndex);
      const batch = rows.map((r, i) => buildRecord(r, gen.texts[i] ?? [], this.settings.metric, this.settings.select));
      const s = this.stats;
      s.tokens += gen.tokens;
      for (const [i, rec] of batch.entries()) {
        s.rows++;
        s.modelCandidates += gen.texts[i]?.length ?? 0;
        s.scored += rec.candidates.length;
        const sel = rec.selection;
        if (sel.kind === 'pair') {
          s.pairs++;
          if (rec.candidates[sel.chosen].from.includes('reference')) s.referenceChosen++;
        } else if (sel.reason === 'margin') s.droppedMargin++;
        else s.droppedTooFew++;
      }
      s.elapsedMs += performance.now() - tb;
      await this.store.saveChunk(this.key, batchIndex, batch);
      this.records.push(...batch);
      const meta: PrefsMeta = { version: 1, fingerprint: this.fingerprint, total: this.rows.length, chunks: batchIndex + 1, stats: s };
      await this.store.saveMeta(this.key, meta);
      const pace = (performance.now() - t0) / (this.done - doneAtStart);
      onProgress?.({ done: this.done, total: this.rows.length, stats: { ...s }, batch, etaMs: pace * (this.rows.length - this.done) });
    }
    return 'done';
  }
}
