// `npm run bench`: every bench/*.bench.ts contributes cases; prints one table for the current adapter.
// Usage: npm run bench [-- --only NAME_SUBSTRING] [--tokens N] [--budget MS] [--full]
// Without --full, whole-model steps at Qwen2.5-0.5B shapes (many minutes each on a CPU adapter) are skipped.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeCapabilities } from '../src/gpu/caps.ts';
import { GpuContext } from '../src/gpu/context.ts';
import { runCase, type BenchCase, type BenchResult } from './harness.ts';

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
const opts: BenchOptions = { tokens: Number(arg('tokens') ?? 16) };
const full = process.argv.includes('--full');
const only = arg('only');
const budget = Number(arg('budget') ?? 3000);
console.log(`adapter: ${describeCapabilities(ctx.caps)}`);
console.log(`tokens per step: ${opts.tokens} (Qwen2.5-0.5B layer shapes)\n`);

if (!full) console.log('(whole-model cases at Qwen2.5-0.5B shapes are skipped: add --full, or --only to pick one)\n');
const results: BenchResult[] = [];
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { cases: (ctx: GpuContext, o: BenchOptions) => Promise<BenchCase[]> };
  for (const c of await mod.cases(ctx, opts)) {
    if ((only && !c.name.includes(only)) || (!full && !only && /Qwen2\.5-0\.5B/.test(c.name))) {
      c.dispose?.();
      continue;
    }
    ctx.resetPeak();
    const r = await runCase(ctx, c, budget);
    results.push(r);
    process.stderr.write(`  ${r.name}: ${r.ms.toFixed(2)} ms\n`);
  }
}

// On a CPU adapter the fraction of the roofline is taken from CPU time (the best of the runs), which the
// machine's other load cannot skew; on a real GPU from wall time.
const rate = (r: BenchResult) => (ctx.caps.isCpu ? r.gflopsCpu : r.gflops) ?? 0;
const roofs = results.filter((r) => r.roofline);
const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number | undefined, d = 2) => (x === undefined ? '' : x.toFixed(d));
console.log(`${pad('kernel', 64)}${pad('ms', 11)}${pad('GFLOP/s', 10)}${pad('GB/s', 8)}${pad('roofline', 10)}${pad('tok/s', 9)}peak GPU bytes`);
for (const r of results) {
  // Each kernel against the roofline measured at its own shape when there is one, else the best roofline.
  const own = roofs.find((x) => x.name.split(' ').at(-1) === r.name.split(' ').at(-1));
  const roof = own ? rate(own) : Math.max(0, ...roofs.map(rate));
  const frac = r.matmulShaped && roof && rate(r) ? `${((100 * rate(r)) / roof).toFixed(0)}%` : '';
  console.log(`${pad(r.name, 64)}${pad(num(r.ms), 11)}${pad(num(r.gflops), 10)}${pad(num(r.gbs), 8)}${pad(frac, 10)}${pad(num(r.tokensPerSecond, 1), 9)}${r.peakBytes ?? ''}`);
}
if (ctx.caps.isCpu) console.log('\n(CPU adapter: "roofline" compares GFLOP per CPU-second, best run; wall-clock columns include other load)');
console.log(`\npeak GPU bytes allocated through the engine: ${ctx.peakBytes}`);
ctx.destroy();
