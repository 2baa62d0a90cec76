// Compile time of one training step's pipelines at Qwen2.5-0.5B layer shapes (q4_0 base, r 16 on all seven
// projections, one pair of o.tokens tokens: prompt and completions a third each, as the engine plans it through
// src/engine/precompile.ts), each on a fresh device: created one by one on this thread, as a cold first step
// does, and all at once ahead through ctx.precompile (Dawn compiles them on its own threads while the caller loads
// weights). The rows say what a cold start pays before its first step.
import { modelStepPipelines, stepPlans } from '../src/engine/precompile.ts';
import { GpuContext } from '../src/gpu/context.ts';
import { PROJECTIONS } from '../src/model/config.ts';
import { QWEN_CFG } from './step.bench.ts';

export async function compileRows(tokens: number): Promise<{ name: string; ms: number; pipelines: number }[]> {
  const n = Math.max(1, Math.round(tokens / 3));
  const ids = (k: number) => Array.from({ length: k }, (_, i) => 3 + i);
  const [plan] = stepPlans([{ promptIds: ids(n), chosenIds: ids(n), rejectedIds: ids(n) }], { r: 16, targets: PROJECTIONS, dropout: 0 }, true);
  const rows: { name: string; ms: number; pipelines: number }[] = [];
  for (const mode of ['ahead', 'one by one'] as const) {
    const ctx = await GpuContext.create();
    try {
      const list = modelStepPipelines(ctx, QWEN_CFG, 'q4_0', plan);
      const t0 = performance.now();
      if (mode === 'ahead') await ctx.precompile(list);
      else for (const p of list) ctx.compile(p.shader, p.defines, p.entryPoint);
      // Synchronous creation may leave work to the first submit: wait for the queue either way.
      await ctx.device.queue.onSubmittedWorkDone();
      rows.push({ name: `compile ${mode}: one step's ${list.length} pipelines (Qwen2.5-0.5B, ${3 * n} tokens)`, ms: performance.now() - t0, pipelines: list.length });
    } finally {
      ctx.destroy();
    }
  }
  return rows;
}
