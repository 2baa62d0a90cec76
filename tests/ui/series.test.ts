import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StepMetrics } from '../../src/engine/types.ts';
import { RunMeter } from '../../src/ui/lib/meter.ts';
import { SeriesStore, decimate, ema as emaOf, nearestIndex, niceTicks } from '../../src/ui/lib/series.ts';
import { throttle } from '../../src/ui/lib/throttle.ts';

const metrics = (step: number, loss: number): StepMetrics =>
  ({ step, epoch: 0, loss, nll_loss: 1, grad_norm: NaN, tokens_per_second: 1000, step_time_ms: 500 }) as unknown as StepMetrics;

describe('SeriesStore', () => {
  it('appends per metric, skips non-finite values, notifies', () => {
    const s = new SeriesStore();
    let calls = 0;
    const off = s.subscribe(() => calls++);
    s.appendMetrics(metrics(1, 2));
    s.appendMetrics(metrics(2, 1.5));
    expect(s.get('loss')).toEqual({ x: [1, 2], y: [2, 1.5] });
    expect(s.get('grad_norm').x).toEqual([]);
    expect(s.last('loss')).toBe(1.5);
    expect(calls).toBe(2);
    off();
    s.appendMetrics(metrics(3, 1));
    expect(calls).toBe(2);
  });

  it('drops replayed steps so x stays increasing', () => {
    const s = new SeriesStore();
    for (const i of [1, 2, 3, 4]) s.appendMetrics(metrics(i, i));
    s.appendMetrics(metrics(3, 30));
    expect(s.get('loss')).toEqual({ x: [1, 2, 3], y: [1, 2, 30] });
  });

  it('loads a history with one notification and skips skipped steps', () => {
    const s = new SeriesStore();
    let calls = 0;
    s.subscribe(() => calls++);
    s.load([metrics(1, 3), { ...metrics(2, 9), skipped: true }, metrics(3, 1)]);
    expect(s.get('loss').x).toEqual([1, 3]);
    expect(calls).toBe(1);
    s.clear();
    expect(s.names()).toEqual([]);
  });
});

describe('chart helpers', () => {
  it('decimates to min/max per bucket, keeping spikes', () => {
    const x = Array.from({ length: 10_000 }, (_, i) => i);
    const y = x.map((i) => (i === 5123 ? 100 : Math.sin(i / 100)));
    const d = decimate({ x, y }, 200);
    expect(d.x.length).toBeLessThanOrEqual(400);
    expect(Math.max(...d.y)).toBe(100);
    expect(d.x.every((v, i) => i === 0 || v > d.x[i - 1])).toBe(true);
    expect(decimate({ x: [1, 2], y: [1, 2] }, 200).x).toEqual([1, 2]);
  });

  it('finds the nearest point and nice ticks', () => {
    expect(nearestIndex([1, 2, 5, 10], 4)).toBe(2);
    expect(nearestIndex([1, 2, 5, 10], 100)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.13, 0.87, 3)).toEqual([0.2, 0.4, 0.6, 0.8]);
  });
});

describe('throttle', () => {
  afterEach(() => vi.useRealTimers());

  it('lets at most one call through per window and keeps the last arguments', () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const t = throttle((v: number) => seen.push(v), 250, () => Date.now());
    for (let i = 0; i < 100; i++) {
      t(i);
      vi.advanceTimersByTime(10); // 100 calls over 1 s
    }
    vi.advanceTimersByTime(300);
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(99);
    expect(seen.length).toBeLessThanOrEqual(6);
  });

  it('flush runs the pending call now; cancel drops it', () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const t = throttle((v: number) => seen.push(v), 250, () => Date.now());
    t(1);
    t(2);
    t.flush();
    expect(seen).toEqual([1, 2]);
    t(3);
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1, 2]);
  });
});

describe('RunMeter', () => {
  it('sums tokens and estimates time left from wall time per step', () => {
    let now = 0;
    const m = new RunMeter(20, () => now);
    for (let step = 1; step <= 5; step++) {
      m.onStep(metrics(step, 1));
      now += 2000;
    }
    expect(m.tokens).toBe(5 * 500);
    expect(m.etaMs(5, 15)).toBe(10 * 2000);
    m.resetClock();
    expect(m.etaMs(5, 15, 700)).toBe(10 * 700);
  });
});

describe('ema', () => {
  it('is TensorBoard\'s debiased EMA: the series itself at 0, a constant stays constant, and each point as the sums say', () => {
    const x = Array.from({ length: 50 }, (_, i) => i + 1);
    const y = x.map((i) => Math.sin(i * 1.7) * 3 + i / 10);
    expect(emaOf({ x, y }, 0).y).toEqual(y);
    for (const v of emaOf({ x, y: x.map(() => 2.5) }, 0.9).y) expect(v).toBeCloseTo(2.5, 12);
    // Written out: point i is Σ_k (1−w) w^(i−k) y_k over Σ_k (1−w) w^(i−k), the weights of the points seen so far.
    const w = 0.6;
    const got = emaOf({ x, y }, w).y;
    for (const i of [0, 1, 7, 49]) {
      let num = 0;
      let den = 0;
      for (let k = 0; k <= i; k++) {
        num += (1 - w) * w ** (i - k) * y[k];
        den += (1 - w) * w ** (i - k);
      }
      expect(got[i]).toBeCloseTo(num / den, 12);
    }
    expect(got[0]).toBeCloseTo(y[0], 12);
  });
});
