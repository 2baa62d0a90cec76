// Benchmark plumbing shared by every bench/<op>.bench.ts. A case records one iteration into a Recorder;
// the harness warms it up, times `reps` iterations per submit, and keeps the best run.
//
// Time is the device's own (timestamp queries around the compute passes) when the adapter has them, else wall
// time around submit: either way one submit's host overhead is not charged to the kernel. A CPU adapter shares
// its cores with everything else on the machine, and the same matmul's time there swings by up to 2x from one
// second to the next; so every matmul-shaped case is timed in alternation with the roofline (the fastest plain
// f32 matmul), and its fraction of the roofline compares runs of each of about the same length, taken one right
// after the other.
import { resolve } from 'node:path';
import type { GpuContext } from '../src/gpu/context.ts';
import type { Recorder } from '../src/gpu/recorder.ts';
import type { ModelConfig } from '../src/model/config.ts';
import { openModel } from '../src/model/load.ts';
import { nodeFiles } from '../src/model/node-files.ts';

/** ../shared/golden's tiny Llama, which the step and TF.js cases run. */
export const GOLDEN_MODEL = resolve(import.meta.dirname, '../../shared/golden/model');

/**
 * The golden model's config, its files opened for it and closed again (each case opens them when it loads the
 * weights); null, said on stderr, where the model is missing.
 */
export async function goldenConfig(): Promise<ModelConfig | null> {
  const missing = () => (console.error(`(golden tiny model unavailable at ${GOLDEN_MODEL})`), null);
  return openModel(nodeFiles(GOLDEN_MODEL)).then((m) => m.close().then(() => m.cfg), missing);
}

export interface BenchCase {
  /** e.g. "matmul q4_0 fwd 128x4864x896" */
  name: string;
  /** Floating-point operations per iteration (2*M*N*K for a matmul); omit for bandwidth-bound kernels. */
  flops?: number;
  /** Bytes moved per iteration (for GB/s); omit when flops says it. */
  bytes?: number;
  /** True for matmul-shaped kernels, reported as a fraction of the f32 roofline. */
  matmulShaped?: boolean;
  /** "MxNxK" of a matmul whose roofline this case is compared with; default: the bench's standard roofline. */
  rooflineShape?: string;
  record?(rec: Recorder): void;
  /**
   * A case of seconds (the output head over the whole vocabulary) can be given as slices that together make one
   * iteration: each is timed beside a roofline run of about its length, so its ratio, a median over slices, is
   * not one run's luck. Its time is the sum of the slices' best times.
   */
  slices?: { record(rec: Recorder): void; flops: number }[];
  /** A case that submits on its own (a whole training step): returns its time and tokens processed. */
  run?(): Promise<{ ms: number; tokens?: number }>;
  /** Iterations per submit (defaults to 1). */
  reps?: number;
  dispose?(): void;
}

export interface BenchResult {
  name: string;
  /** Best time per iteration. */
  ms: number;
  gflops?: number;
  gbs?: number;
  tokensPerSecond?: number;
  peakBytes?: number;
  /** Rate as a fraction of the roofline timed alongside it, median over rounds (matmul-shaped cases). */
  ofRoofline?: number;
  /** The roofline's name and its rate in that stretch, GFLOP/s. */
  roofline?: string;
  rooflineGflops?: number;
}

/** Times one submit of `reps` recorded iterations: ms per iteration. */
export async function timeOnce(ctx: GpuContext, record: (rec: Recorder) => void, reps = 1): Promise<number> {
  const rec = ctx.recorder();
  for (let i = 0; i < reps; i++) record(rec);
  if (ctx.caps.timestampQuery) {
    const ns = await rec.submit({ timed: true });
    return (ns ?? 0) / 1e6 / reps;
  }
  const t0 = performance.now();
  await rec.submit();
  return (performance.now() - t0) / reps;
}

/**
 * Runs a case for about `budgetMs` (at least `minRounds` rounds after a warm-up) and reports its best run; with a
 * roofline, alternates roofline runs with runs of the case.
 */
export async function runCase(ctx: GpuContext, c: BenchCase, budgetMs = 3000, roofline?: BenchCase, minRounds = 2): Promise<BenchResult> {
  if (c.run) {
    ctx.resetPeak();
    await c.run(); // warm-up
    const runs: { ms: number; tokens?: number }[] = [];
    const start = performance.now();
    do runs.push(await c.run());
    while (performance.now() - start < budgetMs && runs.length < 5);
    runs.sort((a, b) => a.ms - b.ms);
    const best = runs[0];
    c.dispose?.();
    return { name: c.name, ms: best.ms, tokensPerSecond: best.tokens ? best.tokens / (best.ms / 1000) : undefined, peakBytes: ctx.peakBytes };
  }
  if (c.slices) return runSliced(ctx, c, c.slices, minRounds, roofline);
  const reps = c.reps ?? 1;
  const roofReps = roofline?.reps ?? 1;
  const roof = () => timeOnce(ctx, roofline!.record!, roofReps);
  // Warm-up: pipeline compilation, first-touch allocation. A device timestamp does not include the compilation,
  // so a case that takes seconds (the output head) keeps its first run instead of repeating it.
  const first = await timeOnce(ctx, c.record!, reps);
  // Each ratio compares runs of equal length taken one right after the other. The machine's speed swings from one
  // 150 ms stretch to the next: a run of a few ms can land in a fast stretch, one of seconds averages over many.
  // So a short case is batched (more iterations per submit) until a run lasts about as long as a roofline run, and
  // a case that runs for seconds is compared with the mean of roofline runs that together last as long.
  const rounds: { ms: number; roofMs: number }[] = [];
  const timed = ctx.caps.timestampQuery;
  if (timed && first * reps > budgetMs / 2) {
    let roofMs = NaN;
    if (roofline) {
      const span = Math.min(first * reps, 4 * budgetMs);
      let total = 0;
      let n = 0;
      do {
        total += await roof();
        n++;
      } while (total * roofReps < span);
      roofMs = total / n;
    }
    rounds.push({ ms: first, roofMs });
  } else {
    const start = performance.now();
    const roof0 = roofline ? await roof() : NaN;
    const batch = roofline ? Math.max(1, Math.min(256, Math.round((roof0 * roofReps) / Math.max(first * reps, 1e-3)))) : 1;
    do {
      const roofMs = roofline ? await roof() : NaN;
      const ms = await timeOnce(ctx, c.record!, reps * batch);
      rounds.push({ ms, roofMs });
    } while ((performance.now() - start < budgetMs || rounds.length < minRounds) && rounds.length < 20);
  }
  c.dispose?.();
  const ms = Math.min(...rounds.map((r) => r.ms));
  const gflops = c.flops ? c.flops / ms / 1e6 : undefined;
  const rooflineGflops = roofline?.flops ? roofline.flops / Math.min(...rounds.map((r) => r.roofMs)) / 1e6 : undefined;
  const ratios = rounds.map((r) => ((c.flops ?? 0) / r.ms) / ((roofline?.flops ?? 0) / r.roofMs)).sort((a, b) => a - b);
  return {
    name: c.name,
    ms,
    gflops,
    gbs: c.bytes ? c.bytes / ms / 1e6 : undefined,
    roofline: roofline?.name,
    rooflineGflops,
    ofRoofline: gflops && rooflineGflops ? median(ratios) : undefined,
  };
}

async function runSliced(ctx: GpuContext, c: BenchCase, slices: NonNullable<BenchCase['slices']>, minRounds: number, roofline?: BenchCase): Promise<BenchResult> {
  const first = await timeOnce(ctx, slices[0].record); // warm-up: compilation
  const roof0 = roofline ? await timeOnce(ctx, roofline.record!) : NaN;
  // Roofline runs batched towards a slice's length, at most 2 per submit to keep the bench short: the shorter
  // roofline run is the likelier to land in a fast stretch, which can only understate the slice's ratio.
  const roofReps = roofline ? Math.max(1, Math.min(2, Math.round(first / roof0))) : 1;
  const best = slices.map(() => Infinity);
  const ratios: number[] = [];
  let bestRoof = Infinity;
  for (let r = 0; r < Math.max(minRounds, slices.length); r++) {
    const s = r % slices.length;
    const roofMs = roofline ? await timeOnce(ctx, roofline.record!, roofReps) : NaN;
    const ms = await timeOnce(ctx, slices[s].record);
    best[s] = Math.min(best[s], ms);
    bestRoof = Math.min(bestRoof, roofMs);
    if (roofline?.flops) ratios.push(slices[s].flops / ms / (roofline.flops / roofMs));
  }
  c.dispose?.();
  const ms = best.reduce((a, b) => a + b, 0);
  const gflops = c.flops ? c.flops / ms / 1e6 : undefined;
  return {
    name: c.name, ms, gflops, roofline: roofline?.name,
    rooflineGflops: roofline?.flops ? roofline.flops / bestRoof / 1e6 : undefined,
    ofRoofline: ratios.length ? median(ratios.sort((a, b) => a - b)) : undefined,
  };
}

function median(xs: number[]): number {
  const n = xs.length;
  return n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

/** Qwen2.5-0.5B's layer shapes, used by every kernel bench. */
export const QWEN05 = { C: 896, F: 4864, H: 14, Hkv: 2, D: 64, V: 151936, R: 16, L: 24 };
