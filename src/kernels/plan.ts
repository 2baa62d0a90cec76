// Which pipelines a training step needs, found by running the kernels' own dispatch code on a planning recorder
// that records what it would compile instead of compiling it: the variant, tile and workgroup choices come from the
// same code (and kernelEnv) as the real dispatches, so nothing here repeats them. The engine plans a whole model's
// step with planPipelines over the model's own layer code (src/engine/precompile.ts: every family) and starts
// ctx.precompile on it before it loads the weights: on a CPU adapter the compiles take tens of seconds (the
// attention forward at D = 64 alone ~10 s on SwiftShader) and run on Dawn's thread meanwhile. stepPipelines below
// is the kernels' own outline of a Llama-family step (no q/k norms, GeGLU or windows), for kernel-level checks.
import type { GpuContext } from '../gpu/context.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { shaderKey, type Defines, type Shader } from '../gpu/wgsl.ts';
import { adamwStep } from './adamw/adamw.ts';
import { attentionBackward, attentionForward, attentionUsesDs, type AttnShape } from './attention/attention.ts';
import { embeddingForward } from './embedding/embedding.ts';
import { outputHeadBackward, outputHeadForward } from './head/head.ts';
import { loraBackward, loraForward } from './lora/lora.ts';
import { matmulBackwardInput, matmulForward } from './matmul/matmul.ts';
import type { WeightType } from './quant/formats.ts';
import type { WeightTensor } from './quant/tensor.ts';
import { clipScale, segmentSum, sumSquares } from './reduce/reduce.ts';
import { rmsnormBackward, rmsnormForward } from './rmsnorm/rmsnorm.ts';
import { ropeBackward, ropeForward } from './rope/rope.ts';
import { swigluBackward, swigluForward } from './swiglu/swiglu.ts';

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
      const key = `${shaderKey(shader.name, defines)}#${entryPoint}`;
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

/** One training step's shapes (a Llama-family layer as src/model/transformer.ts runs it). */
export interface StepShape {
  /** Sequences (2 per pair), their padded length, and the scored (completion) positions. */
  nSeq: number;
  T: number;
  S: number;
  C: number;
  F: number;
  H: number;
  Hkv: number;
  D: number;
  V: number;
  /** Weight types of the projections, the embedding and the output head. */
  proj: WeightType;
  embed: WeightType;
  head: WeightType;
  /** q/k/v biases (Qwen2). */
  qkvBias: boolean;
  /** LoRA rank and the adapted projections ('q_proj', ...), with dropout or not; null: forward only. */
  lora: { R: number; targets: readonly string[]; dropout: boolean } | null;
}

const PROJ = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** The pipelines of a step's forward and (with a LoRA) backward and optimizer update, at these shapes. */
export function stepPipelines(ctx: GpuContext, s: StepShape): PipelineSpec[] {
  const M = s.nSeq * s.T;
  const buf = { size: 1 << 30 } as unknown as GPUBuffer;
  // (out, in) features of each projection.
  const dims: Record<(typeof PROJ)[number], [number, number]> = {
    q_proj: [s.H * s.D, s.C], k_proj: [s.Hkv * s.D, s.C], v_proj: [s.Hkv * s.D, s.C], o_proj: [s.C, s.H * s.D],
    gate_proj: [s.F, s.C], up_proj: [s.F, s.C], down_proj: [s.C, s.F],
  };
  const weight = (type: WeightType, rows: number, K: number): WeightTensor => ({ name: 'plan', type, rows, K, byteLength: 0, parts: [{ buffer: buf, start: 0, end: rows }] });
  const attn: AttnShape = { B: s.nSeq, Tq: s.T, Tk: s.T, H: s.H, Hkv: s.Hkv, D: s.D };
  const backward = !!s.lora;
  const dropout = s.lora?.dropout ? { p: 0.1, seed: 1 } : undefined;
  return planPipelines(ctx, (rec) => {
    const project = (p: (typeof PROJ)[number], accumulate: boolean) => {
      const [N, K] = dims[p];
      const bias = s.qkvBias && (p === 'q_proj' || p === 'k_proj' || p === 'v_proj') ? buf : undefined;
      matmulForward(rec, buf, buf, weight(s.proj, N, K), M, { bias, accumulate });
      if (s.lora?.targets.includes(p)) loraForward(rec, buf, buf, buf, buf, buf, M, N, K, s.lora.R, 1, dropout);
    };
    const projectBackward = (p: (typeof PROJ)[number], accumulateDx: boolean) => {
      const [N, K] = dims[p];
      matmulBackwardInput(rec, buf, buf, weight(s.proj, N, K), M, { accumulate: accumulateDx });
      if (s.lora?.targets.includes(p)) loraBackward(rec, buf, buf, buf, buf, buf, buf, buf, buf, buf, M, N, K, s.lora.R, 1, { accumulateGrads: false, dropout });
    };
    embeddingForward(rec, buf, buf, weight(s.embed, s.V, s.C), M);
    rmsnormForward(rec, buf, buf, buf, buf, M, s.C, 1e-6);
    for (const p of PROJ) project(p, p === 'o_proj' || p === 'down_proj');
    ropeForward(rec, buf, buf, M, s.T, s.H, s.D);
    attentionForward(rec, buf, buf, buf, buf, buf, buf, attn);
    swigluForward(rec, buf, buf, buf, M * s.F);
    outputHeadForward(rec, buf, buf, buf, buf, buf, buf, weight(s.head, s.V, s.C), s.S, backward ? buf : undefined);
    segmentSum(rec, buf, buf, buf, buf, s.nSeq);
    if (!backward) return;
    outputHeadBackward(rec, buf, buf, buf, buf, s.S, s.C);
    rmsnormBackward(rec, buf, buf, buf, buf, buf, M, s.C, false);
    rmsnormBackward(rec, buf, buf, buf, buf, buf, M, s.C, true);
    for (const p of PROJ) projectBackward(p, p === 'up_proj' || p === 'k_proj' || p === 'v_proj');
    swigluBackward(rec, buf, buf, buf, buf, buf, M * s.F);
    attentionBackward(rec, buf, buf, buf, buf, buf, buf, buf, buf, buf, buf, attn, attentionUsesDs(ctx, attn) ? buf : null);
    ropeBackward(rec, buf, buf, M, s.T, s.H, s.D);
    sumSquares(rec, buf, [{ buffer: buf, n: 1 }], buf);
    clipScale(rec, buf, buf, 1);
    adamwStep(rec, buf, buf, buf, buf, 1, { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 }, buf);
  });
}
