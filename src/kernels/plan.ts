// Which pipelines a training step needs, found by running the kernels' own dispatch code on a planning recorder
// that records what it would compile instead of compiling it: the variant, tile and workgroup choices come from the
// same code (and kernelEnv) as the real dispatches, so nothing here repeats them. The engine plans a whole model's
// step with planPipelines over the model's own layer code (src/engine/precompile.ts: every family) and starts
// ctx.precompile on it before it loads the weights: on a CPU adapter the compiles take tens of seconds (one step's
// 29 pipelines at Qwen2.5-0.5B shapes 14.5 s one by one on SwiftShader, `npm run bench`) and run on Dawn's thread
// meanwhile.
import type { GpuContext } from '../gpu/context.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { pipelineId, type Defines, type Shader } from '../gpu/wgsl.ts';

export interface PipelineSpec {
  shader: Shader<any>;
  defines: Defines;
  entryPoint?: string;
}

/** The pipelines `record` would compile on ctx's device, each once, in first-use order. */
export function planPipelines(ctx: GpuContext, record: (rec: Recorder) => void): PipelineSpec[] {
  const seen = new Map<string, PipelineSpec>();
  const fake = (size: number) => ({ size, label: 'plan' }) as unknown as GPUBuffer;
  // Only what kernel dispatch code touches: caps, compile, and scratch buffers (sized, never used).
  const planCtx = {
    caps: ctx.caps,
    compile(shader: Shader<any>, defines: Defines, entryPoint = 'main') {
      const key = pipelineId({ shader, defines, entryPoint });
      if (!seen.has(key)) seen.set(key, { shader, defines, entryPoint });
      return {} as GPUComputePipeline;
    },
    buffer: (_label: string, size: number) => fake(size),
    release() {},
  } as unknown as GpuContext;
  const rec = { ctx: planCtx, dispatch() {}, clear() {}, copy() {} } as unknown as Recorder;
  record(rec);
  return [...seen.values()];
}
