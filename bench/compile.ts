// Compile time of one training step's pipelines at Qwen2.5-0.5B layer shapes (q4_0 base, r 16 on all seven
// projections, dropout, one pair of o.tokens/2 tokens per sequence), each on a fresh device: created one by one
// on this thread, as a cold first step does, and all at once ahead through ctx.precompile (Dawn compiles them on
// its own threads while the caller loads weights). The rows say what a cold start pays before its first step.
import { GpuContext } from '../src/gpu/context.ts';
import { stepPipelines, type StepShape } from '../src/kernels/plan.ts';
import { QWEN05 } from './harness.ts';

export async function compileRows(tokens: number): Promise<{ name: string; ms: number; pipelines: number }[]> {
  const T = Math.max(1, Math.round(tokens / 2));
  const shape: StepShape = {
    nSeq: 2, T, S: T, C: QWEN05.C, F: QWEN05.F, H: QWEN05.H, Hkv: QWEN05.Hkv, D: QWEN05.D, V: QWEN05.V,
    proj: 'q4_0', embed: 'q8_0', head: 'q8_0', qkvBias: true,
    lora: { R: QWEN05.R, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], dropout: true },
  };
  const rows: { name: string; ms: number; pipelines: number }[] = [];
  for (const mode of ['ahead', 'one by one'] as const) {
    const ctx = await GpuContext.create();
    try {
      const plan = stepPipelines(ctx, shape);
      const t0 = performance.now();
      if (mode === 'ahead') await ctx.precompile(plan);
      else for (const p of plan) ctx.compile(p.shader, p.defines, p.entryPoint);
      // Synchronous creation may leave work to the first submit: wait for the queue either way.
      await ctx.device.queue.onSubmittedWorkDone();
      rows.push({ name: `compile ${mode}: one step's ${plan.length} pipelines (Qwen2.5-0.5B layers, T ${T})`, ms: performance.now() - t0, pipelines: plan.length });
    } finally {
      ctx.destroy();
    }
  }
  return rows;
}
