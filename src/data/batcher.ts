// Deterministic train/eval split and length-grouped batches with a cursor a checkpoint can save.
//
// Each epoch: shuffle the train pairs, sort by length within windows of `windowBatches` batches (so a
// batch holds pairs of similar length and little padding), cut into batches, shuffle the batch order.
// The cursor stores the RNG state from the start of the epoch; restoring rebuilds that epoch's plan from
// it and skips to the position, so the remaining batches are exactly those an uninterrupted run sees.
import { Rng } from '../util/rng.ts';
import type { TokenizedPair } from './types.ts';

export interface BatcherOptions {
  batchSize: number;
  seed: number;
  /** Share of pairs held out for evaluation (ignored when evalCount is given). */
  evalFraction?: number;
  evalCount?: number;
  /** Length-sorting window, in batches (default 50); 1 disables grouping beyond a batch. */
  windowBatches?: number;
  /** Group by length (default true); false gives plain shuffled batches. */
  groupByLength?: boolean;
  /** Drop each epoch's final short batch (default false). */
  dropLast?: boolean;
}

export interface BatcherCursor {
  epoch: number;
  /** Batches of this epoch already handed out. */
  position: number;
  /** RNG state at the start of this epoch (xoshiro128** words). */
  rngState: number[];
  /** Number of train pairs, to catch restoring onto a different dataset or split. */
  trainSize: number;
}

export interface PairBatch {
  epoch: number;
  /** Index of this batch within its epoch. */
  step: number;
  pairs: TokenizedPair[];
  /** Longest sequence in the batch: prompt + the longer completion. */
  maxLength: number;
  /** Real tokens in the chosen and rejected sequences together (prompt counted twice). */
  tokens: number;
}

export function pairLength(p: TokenizedPair): number {
  return p.promptIds.length + Math.max(p.chosenIds.length, p.rejectedIds.length);
}

const SPLIT_SALT = 0x51ed270b;

export class PairBatcher {
  readonly train: TokenizedPair[];
  readonly eval: TokenizedPair[];
  private readonly opts: Required<Omit<BatcherOptions, 'evalCount' | 'evalFraction'>>;
  private rng!: Rng;
  private epochState!: Uint32Array;
  private plan!: number[][];
  private epoch = 0;
  private position = 0;

  constructor(pairs: TokenizedPair[], options: BatcherOptions) {
    if (!(options.batchSize >= 1)) throw new Error('batchSize must be at least 1');
    this.opts = {
      batchSize: Math.floor(options.batchSize),
      seed: options.seed,
      windowBatches: Math.max(1, options.windowBatches ?? 50),
      groupByLength: options.groupByLength ?? true,
      dropLast: options.dropLast ?? false,
    };
    const n = pairs.length;
    const evalCount = Math.min(n, Math.max(0, Math.round(options.evalCount ?? n * (options.evalFraction ?? 0))));
    const order = [...pairs.keys()];
    new Rng((options.seed ^ SPLIT_SALT) >>> 0).shuffle(order);
    const evalIdx = order.slice(0, evalCount).sort((a, b) => a - b);
    const trainIdx = order.slice(evalCount).sort((a, b) => a - b);
    this.eval = evalIdx.map((i) => pairs[i]);
    this.train = trainIdx.map((i) => pairs[i]);
    this.startEpoch(new Rng(options.seed), 0);
  }

  get batchesPerEpoch(): number {
    return this.plan.length;
  }

  /** The next batch; epochs roll over on their own. Null only when there is nothing to train on. */
  next(): PairBatch | null {
    if (this.plan.length === 0) return null;
    if (this.position >= this.plan.length) this.startEpoch(this.rng, this.epoch + 1);
    const step = this.position++;
    return makeBatch(this.epoch, step, this.plan[step].map((i) => this.train[i]));
  }

  cursor(): BatcherCursor {
    return { epoch: this.epoch, position: this.position, rngState: [...this.epochState], trainSize: this.train.length };
  }

  restore(c: BatcherCursor): void {
    if (c.trainSize !== this.train.length) {
      throw new Error(`cursor is for ${c.trainSize} train pairs, this batcher has ${this.train.length} (different data, seed or split)`);
    }
    this.startEpoch(new Rng(Uint32Array.from(c.rngState)), c.epoch);
    this.position = Math.min(c.position, this.plan.length);
  }

  /** Eval pairs in fixed length-sorted batches (no randomness, so eval losses compare across runs). */
  evalBatches(batchSize = this.opts.batchSize): PairBatch[] {
    const idx = [...this.eval.keys()].sort((a, b) => pairLength(this.eval[b]) - pairLength(this.eval[a]) || a - b);
    const out: PairBatch[] = [];
    for (let i = 0; i < idx.length; i += batchSize) out.push(makeBatch(0, out.length, idx.slice(i, i + batchSize).map((k) => this.eval[k])));
    return out;
  }

  private startEpoch(rng: Rng, epoch: number): void {
    this.rng = rng;
    this.epochState = rng.state();
    this.epoch = epoch;
    this.position = 0;
    this.plan = this.makePlan(rng);
  }

  private makePlan(rng: Rng): number[][] {
    const { batchSize, windowBatches, groupByLength, dropLast } = this.opts;
    const idx = rng.shuffle([...this.train.keys()]);
    if (groupByLength) {
      const len = this.train.map(pairLength);
      const w = batchSize * windowBatches;
      for (let s = 0; s < idx.length; s += w) {
        const win = idx.slice(s, s + w).sort((a, b) => len[b] - len[a] || a - b);
        for (let k = 0; k < win.length; k++) idx[s + k] = win[k];
      }
    }
    let batches: number[][] = [];
    for (let i = 0; i < idx.length; i += batchSize) batches.push(idx.slice(i, i + batchSize));
    if (dropLast && batches.length && batches[batches.length - 1].length < batchSize) batches = batches.slice(0, -1);
    return rng.shuffle(batches);
  }
}

function makeBatch(epoch: number, step: number, pairs: TokenizedPair[]): PairBatch {
  let maxLength = 0;
  let tokens = 0;
  for (const p of pairs) {
    maxLength = Math.max(maxLength, pairLength(p));
    tokens += 2 * p.promptIds.length + p.chosenIds.length + p.rejectedIds.length;
  }
  return { epoch, step, pairs, maxLength, tokens };
}
