// Benchmark plumbing shared by every bench/<op>.bench.ts. A case records one iteration into a Recorder;
// the harness warms it up, times `reps` iterations per submit, and reports the median.
import type { GpuContext } from '../src/gpu/context.ts';
import type { Recorder } from '../src/gpu/recorder.ts';

export interface BenchCase {
  /** e.g. "matmul q4_0 fwd 128x4864x896" */
  name: string;
  /** Floating-point operations per iteration (2*M*N*K for a matmul); omit for bandwidth-bound kernels. */
  flops?: number;
  /** Bytes moved per iteration (for GB/s); omit when flops says it. */
  bytes?: number;
  /** True for matmul-shaped kernels, reported as a fraction of the f32 roofline. */
  matmulShaped?: boolean;
  /** True for the roofline case itself (the fastest plain f32 matmul). */
  roofline?: boolean;
  record?(rec: Recorder): void;
  /** A case that submits on its own (a whole training step): returns its time and tokens processed. */
  run?(): Promise<{ ms: number; tokens?: number }>;
  /** Iterations per submit (defaults to 1). */
  reps?: number;
  dispose?(): void;
}

export interface BenchResult {
  name: string;
  ms: number;
  gflops?: number;
  gbs?: number;
  matmulShaped?: boolean;
  roofline?: boolean;
  tokensPerSecond?: number;
  peakBytes?: number;
  /** Process CPU milliseconds per iteration: on a CPU adapter (SwiftShader) this, not wall time, is what
   * other processes on the machine cannot inflate. */
  cpuMs?: number;
  gflopsCpu?: number;
}

function cpuNow(): number {
  const u = typeof process !== 'undefined' && process.cpuUsage ? process.cpuUsage() : null;
  return u ? (u.user + u.system) / 1000 : NaN;
}

export async function runCase(ctx: GpuContext, c: BenchCase, budgetMs = 4000): Promise<BenchResult> {
  const reps = c.reps ?? 1;
  if (c.run) {
    ctx.resetPeak();
    await c.run(); // warm-up
    const runs: { ms: number; tokens?: number }[] = [];
    const start = performance.now();
    do runs.push(await c.run());
    while (performance.now() - start < budgetMs && runs.length < 5);
    runs.sort((a, b) => a.ms - b.ms);
    const mid = runs[Math.floor(runs.length / 2)];
    c.dispose?.();
    return { name: c.name, ms: mid.ms, tokensPerSecond: mid.tokens ? mid.tokens / (mid.ms / 1000) : undefined, peakBytes: ctx.peakBytes };
  }
  const once = async () => {
    const rec = ctx.recorder();
    for (let i = 0; i < reps; i++) c.record!(rec);
    const t0 = performance.now();
    const c0 = cpuNow();
    await rec.submit();
    return { wall: (performance.now() - t0) / reps, cpu: (cpuNow() - c0) / reps };
  };
  await once(); // warm-up: pipeline compilation, first-touch allocation
  const times: number[] = [];
  const cpus: number[] = [];
  const start = performance.now();
  do {
    const t = await once();
    times.push(t.wall);
    cpus.push(t.cpu);
  } while (performance.now() - start < budgetMs && times.length < 20);
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  const cpuMs = Math.min(...cpus);
  c.dispose?.();
  return {
    name: c.name,
    ms,
    gflops: c.flops ? c.flops / ms / 1e6 : undefined,
    gbs: c.bytes ? c.bytes / ms / 1e6 : undefined,
    matmulShaped: c.matmulShaped,
    roofline: c.roofline,
    cpuMs,
    gflopsCpu: c.flops && cpuMs > 0 ? c.flops / cpuMs / 1e6 : undefined,
  };
}

/** Qwen2.5-0.5B's layer shapes, used by every kernel bench. */
export const QWEN05 = { C: 896, F: 4864, H: 14, Hkv: 2, D: 64, V: 151936, R: 16, L: 24 };
