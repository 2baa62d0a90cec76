// Per-step metric series, kept outside React: a step event appends here and only the canvases that draw a
// series hear of it, so a run of thousands of steps never re-renders the component tree.
import type { StepMetrics } from '../../engine/types.ts';
import { formatNumber } from './format.ts';

export interface Series {
  readonly x: number[];
  readonly y: number[];
}

export const CHART_METRICS = [
  'loss',
  'nll_loss',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
  'logits/chosen',
  'grad_norm',
  'learning_rate',
  'tokens_per_second',
] as const;

const EMPTY: Series = Object.freeze({ x: [], y: [] }) as Series;

export class SeriesStore {
  private readonly data = new Map<string, { x: number[]; y: number[] }>();
  private readonly listeners = new Set<() => void>();
  /** Bumped on every change, so a drawer can tell whether it is stale without diffing. */
  version = 0;

  /** Records one step; non-finite values are skipped (a skipped step's NaN loss would wreck the axis). */
  append(step: number, values: Record<string, unknown>): void {
    for (const [name, v] of Object.entries(values)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      let s = this.data.get(name);
      if (!s) this.data.set(name, (s = { x: [], y: [] }));
      // A resumed run may replay steps already recorded: keep x increasing.
      while (s.x.length && s.x[s.x.length - 1] >= step) {
        s.x.pop();
        s.y.pop();
      }
      s.x.push(step);
      s.y.push(v);
    }
    this.changed();
  }

  appendMetrics(m: StepMetrics): void {
    if (m.skipped) return;
    this.append(m.step, m as unknown as Record<string, unknown>);
  }

  /** Replaces everything with a run's history (one notification, not one per step). */
  load(history: StepMetrics[]): void {
    this.data.clear();
    for (const m of history) {
      if (m.skipped) continue;
      for (const [name, v] of Object.entries(m)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        let s = this.data.get(name);
        if (!s) this.data.set(name, (s = { x: [], y: [] }));
        s.x.push(m.step);
        s.y.push(v);
      }
    }
    this.changed();
  }

  clear(): void {
    this.data.clear();
    this.changed();
  }

  get(name: string): Series {
    return this.data.get(name) ?? EMPTY;
  }

  last(name: string): number | undefined {
    const s = this.data.get(name);
    return s && s.y.length ? s.y[s.y.length - 1] : undefined;
  }

  names(): string[] {
    return [...this.data.keys()];
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }
}

/**
 * Reduces a series to at most ~2 points per pixel column (the min and max of each bucket), so drawing cost
 * stays bounded by the canvas width, not the run length, and spikes survive the reduction.
 */
export function decimate(s: Series, buckets: number): Series {
  const n = s.x.length;
  if (n <= buckets * 2 || buckets < 1) return s;
  const x: number[] = [];
  const y: number[] = [];
  const per = n / buckets;
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * per);
    const hi = Math.min(n, Math.floor((b + 1) * per));
    if (hi <= lo) continue;
    let iMin = lo;
    let iMax = lo;
    for (let i = lo + 1; i < hi; i++) {
      if (s.y[i] < s.y[iMin]) iMin = i;
      if (s.y[i] > s.y[iMax]) iMax = i;
    }
    for (const i of iMin <= iMax ? [iMin, iMax] : [iMax, iMin]) {
      if (x.length && x[x.length - 1] === s.x[i]) continue;
      x.push(s.x[i]);
      y.push(s.y[i]);
    }
  }
  return { x, y };
}

/** Index of the point whose x is nearest to `x` (binary search; xs are increasing). */
export function nearestIndex(xs: readonly number[], x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
}

/** Tick labels with as many decimals as the tick step needs, so neighbouring ticks never read the same. */
export function tickFormatter(ticks: number[]): (v: number) => string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 0;
  const big = Math.max(...ticks.map(Math.abs));
  if (!step || !Number.isFinite(step) || big >= 1e4 || (big > 0 && big < 1e-3)) return (v) => formatNumber(v, 4);
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return (v) => (v === 0 ? '0' : v.toFixed(decimals));
}

/** "Nice" axis ticks (1, 2, 5 × 10^k) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const span = max - min;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The nice step nearest the raw one (on a log scale), so the tick count stays close to `count`.
  const step = [1, 2, 5, 10].map((k) => k * mag).reduce((a, b) => (Math.abs(Math.log(b / raw)) < Math.abs(Math.log(a / raw)) ? b : a));
  const out: number[] = [];
  // Integer multiples of the step, not a running sum: the sum drifts (a tick at -5.55e-17 instead of 0).
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) out.push(i === 0 ? 0 : Number((i * step).toPrecision(12)));
  return out;
}

/**
 * Exponential moving average as TensorBoard's smoothing slider computes it (and W&B's "exponential"): a
 * running average started at zero and divided by its bias, 1 − weight^(i+1), so the first points are not
 * pulled toward zero. weight 0 returns the series itself.
 */
export function ema(s: Series, weight: number): Series {
  if (!(weight > 0) || s.y.length === 0) return s;
  const w = Math.min(weight, 0.999);
  const y: number[] = new Array(s.y.length);
  let acc = 0;
  let debias = 1;
  for (let i = 0; i < s.y.length; i++) {
    acc = acc * w + (1 - w) * s.y[i];
    debias *= w;
    y[i] = acc / (1 - debias);
  }
  return { x: s.x, y };
}
