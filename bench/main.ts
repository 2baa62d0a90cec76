// `npm run bench`: every bench/*.bench.ts contributes cases; prints one table for the current adapter.
// Usage: npm run bench [-- --only NAME_SUBSTRING] [--tokens N] [--budget MS] [--full] [--json]
// Without --full, whole-model steps at Qwen2.5-0.5B shapes (many minutes each on a CPU adapter) are skipped.
// --json: the table as one JSON object on stdout (the adapter's description and capabilities, every row), the
// text table on stderr, so runs on different machines can be compared: npm run -s bench -- --json > bench.json
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeCapabilities } from '../src/gpu/caps.ts';
import { GpuContext } from '../src/gpu/context.ts';
import { compileRows } from './compile.ts';
import { QWEN05, runCase, type BenchCase, type BenchResult } from './harness.ts';
import { rooflineCase } from './roofline.ts';

export interface BenchOptions {
  /** Tokens per step at Qwen2.5-0.5B shapes (rows of the activation matrices). */
  tokens: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const here = dirname(fileURLToPath(import.meta.url));
const ctx = await GpuContext.create();
// 64 tokens: one short training sequence. Attention over 16 rows spends as long setting up each row as on its
// few keys; at 64 the kernels run as they do in training. The whole table takes 3.5-4 minutes on SwiftShader
// (2 vCPUs), most of it the five alternations of each matmul-shaped case with its roofline.
const opts: BenchOptions = { tokens: Number(arg('tokens') ?? 64) };
const full = process.argv.includes('--full');
const only = arg('only');
const budget = Number(arg('budget') ?? 1000);
const json = process.argv.includes('--json');
// With --json, stdout carries only the JSON: everything else, the cases' own notes included, goes to stderr.
const writeStdout = (text: string) => process.stdout.write(text);
if (json) console.log = (...a: unknown[]) => console.error(...a);
const say = (line: string) => console.log(line);
const timing = ctx.caps.timestampQuery ? 'GPU timestamps' : 'wall clock';
say(`adapter: ${describeCapabilities(ctx.caps)}`);
say(`tokens per step: ${opts.tokens} (Qwen2.5-0.5B layer shapes)`);
say(`time: ${timing}, best run\n`);
if (!full) say('(whole-model cases at Qwen2.5-0.5B shapes are skipped: add --full, or --only to pick one)\n');

// The standard roofline is at the MLP's gate/up shape; a matmul case at another shape brings its own.
const rooflines = new Map<string, BenchCase>();
const roofFor = async (shape = `${opts.tokens}x${QWEN05.F}x${QWEN05.C}`): Promise<BenchCase> => {
  let r = rooflines.get(shape);
  if (!r) {
    const [M, N, K] = shape.split('x').map(Number);
    rooflines.set(shape, (r = await rooflineCase(ctx, M, N, K)));
  }
  return r;
};
const results: (BenchResult & { compileMs: number })[] = [];
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { cases: (ctx: GpuContext, o: BenchOptions) => Promise<BenchCase[]> };
  for (const c of await mod.cases(ctx, opts)) {
    if ((only && !c.name.includes(only)) || (!full && !only && /Qwen2\.5-0\.5B/.test(c.name))) {
      c.dispose?.();
      continue;
    }
    ctx.resetPeak();
    const t0 = performance.now();
    const c0 = ctx.compileMs;
    // A matmul-shaped case's fraction of the roofline is a median over alternations: at least 5 rounds, since one
    // round's ratio on this kind of machine is off by up to ±40%.
    const r = c.matmulShaped ? await runCase(ctx, c, budget, await roofFor(c.rooflineShape), 5) : await runCase(ctx, c, budget);
    // Pipeline creation is the first run's (warm-up) cost, kept out of the timed runs: shown in its own column.
    results.push({ ...r, compileMs: ctx.compileMs - c0 });
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`  ${r.name}: ${r.ms.toFixed(2)} ms${r.ofRoofline ? ` (${(100 * r.ofRoofline).toFixed(0)}% of roofline)` : ''} [${took} s]\n`);
  }
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number | undefined, d = 2) => (x === undefined ? '' : x.toFixed(d));
const row = (name: string, ms: number | undefined, gflops?: number, gbs?: number, frac = '', tok?: number, peak?: number, compile?: number) =>
  say(`${pad(name, 64)}${pad(num(ms), 11)}${pad(num(gflops), 10)}${pad(num(gbs), 8)}${pad(frac, 10)}${pad(num(tok, 1), 9)}${pad(num(compile, 0), 12)}${peak ?? ''}`);
say(`${pad('kernel', 64)}${pad('ms', 11)}${pad('GFLOP/s', 10)}${pad('GB/s', 8)}${pad('roofline', 10)}${pad('tok/s', 9)}${pad('compile ms', 12)}peak GPU bytes`);
// Each roofline's own row: its best run over all the stretches it was timed in.
for (const r of rooflines.values()) {
  const best = Math.max(0, ...results.filter((x) => x.roofline === r.name).map((x) => x.rooflineGflops ?? 0));
  if (best) row(r.name, r.flops! / best / 1e6, best, undefined, '100%');
}
for (const r of results) {
  const frac = r.ofRoofline ? `${(100 * r.ofRoofline).toFixed(0)}%` : '';
  row(r.name, r.ms, r.gflops, r.gbs, frac, r.tokensPerSecond, r.peakBytes, r.compileMs);
}
// Creating every pipeline this run used (the cases' set-up included), one after another on this thread
// (ctx.compileMs): what a cold start pays before its first step unless pipelines are created ahead (ctx.precompile).
const compileRow = `pipeline compile: ${ctx.pipelineCount} pipelines created in this run`;
row(compileRow, ctx.compileMs);
const compiles = !only || 'compile'.includes(only) ? await compileRows(opts.tokens) : [];
for (const r of compiles) row(r.name, r.ms);
// Which feature-checked GPU paths this run's kernels took, read off the pipelines it created (their keys name every
// define): a run on a real GPU shows whether f16 weights and subgroup reductions ran, or the f32 / tree fallbacks.
const pathsRan = gpuPaths(ctx.pipelineIds);
say(`\nGPU paths (pipelines with / without): ${Object.entries(pathsRan).map(([k, v]) => `${k} ${v.with}/${v.with + v.without}`).join(', ')}`);
say('"roofline": the rate as a fraction of the plain f32 matmul timed in alternation with it (see bench/harness.ts)');
say(`peak GPU bytes allocated through the engine: ${ctx.peakBytes}`);
if (json) {
  const out = {
    adapter: ctx.caps.adapterName,
    capabilities: ctx.caps,
    date: new Date().toISOString(),
    tokens: opts.tokens,
    timing,
    gpuPaths: pathsRan,
    rooflines: [...rooflines.values()].map((r) => ({ name: r.name, gflops: Math.max(0, ...results.filter((x) => x.roofline === r.name).map((x) => x.rooflineGflops ?? 0)) })),
    rows: [...results, { name: compileRow, ms: ctx.compileMs, compileMs: ctx.compileMs }, ...compiles.map((r) => ({ ...r, compileMs: r.ms }))],
    peakBytes: ctx.peakBytes,
  };
  writeStdout(`${JSON.stringify(out, null, 2)}\n`);
}
for (const r of rooflines.values()) r.dispose?.();
ctx.destroy();

/** Per feature-checked path: how many of the run's pipelines of that kernel (and variant) took it, and how many not. */
function gpuPaths(ids: string[]): Record<string, { feature: boolean; with: number; without: number }> {
  const count = (feature: boolean, of: RegExp, flag: RegExp) => {
    const mine = ids.filter((id) => of.test(id));
    const w = mine.filter((id) => flag.test(id)).length;
    return { feature, with: w, without: mine.length - w };
  };
  const { f16, subgroups } = ctx.caps;
  return {
    'matmul shared f16 weights': count(f16, /^matmul\(.*VARIANT=shared/, /F16=true/),
    'reduce subgroups': count(subgroups, /^reduce\((?!KERNEL=CLIP)/, /SUBGROUPS=true/),
    'rmsnorm subgroups': count(subgroups, /^rmsnorm\((?!.*SERIAL=true)/, /SUBGROUPS=true/),
    // The loop variant's other kernels have no subgroup path; its forward's key says LPR=4 for it.
    'attention subgroups': count(subgroups, /^attention_tiled\(|^attention_loop\(.*KERNEL=FORWARD/, /SUBGROUPS=true|LPR=4/),
  };
}
