// Progress arithmetic for a run: tokens seen and time left, from step events as they arrive.
import type { StepMetrics } from '../../engine/types.ts';

/** Tokens behind a run's stored history (what the meter would have counted live). */
export function tokensSeen(history: StepMetrics[]): number {
  let n = 0;
  for (const m of history) if (Number.isFinite(m.tokens_per_second) && Number.isFinite(m.step_time_ms)) n += (m.tokens_per_second * m.step_time_ms) / 1000;
  return n;
}

export class RunMeter {
  tokens = 0;
  private times: number[] = [];
  private steps: number[] = [];

  constructor(
    private readonly window = 20,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Forgets the step timings (after a pause the first step's wall time would be the pause itself). */
  resetClock(): void {
    this.times = [];
    this.steps = [];
  }

  onStep(m: StepMetrics): void {
    if (Number.isFinite(m.tokens_per_second) && Number.isFinite(m.step_time_ms)) this.tokens += (m.tokens_per_second * m.step_time_ms) / 1000;
    this.times.push(this.now());
    this.steps.push(m.step);
    if (this.times.length > this.window + 1) {
      this.times.shift();
      this.steps.shift();
    }
  }

  /** Mean wall time per step over the window; falls back to the engine's own step time with one sample. */
  msPerStep(fallback?: number): number | undefined {
    const n = this.times.length;
    if (n >= 2) {
      const ds = this.steps[n - 1] - this.steps[0];
      if (ds > 0) return (this.times[n - 1] - this.times[0]) / ds;
    }
    return fallback;
  }

  etaMs(step: number, totalSteps: number, fallbackMsPerStep?: number): number | undefined {
    const per = this.msPerStep(fallbackMsPerStep);
    if (per === undefined || !(totalSteps > 0)) return undefined;
    return Math.max(0, totalSteps - step) * per;
  }
}
