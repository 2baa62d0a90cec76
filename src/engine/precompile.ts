// The pipelines a model's training step needs, created ahead (ctx.precompile: createComputePipelineAsync, on
// Dawn's thread) while the weights load. They are found by recording the model's own layer code
// (model/layer.ts: every family's norms, activations and attention windows) on the planning recorder of
// kernels/plan.ts, against stand-in weights of the model's shapes and types: the kernels' own dispatch code
// picks variants and tiles, so nothing here repeats a choice. The outline around the layers (embedding, final
// norm, head, loss sums, optimizer) follows model/transformer.ts and train/optimizer.ts; tests/engine/precompile
// checks that a real step on each family compiles nothing beyond the plan.
//
// Measured on SwiftShader (2 shared cores, quiet), a 3-layer D 64 Llama's one grads step: 27 pipelines, 27.5 s
// created one by one, 16.9 s of it the attention forward (8 query rows per invocation; 3.6 s with 2, which one-step
// commands take: cli/logps.ts), 5.3 s its DKDV, 1.8 s the head's training pass. (That forward held a row group on
// one lane; on 4 subgroup lanes, as it now runs where subgroups fit, it compiles in 2.4 s, 0.6 s with 2 rows.)
import type { GpuContext } from '../gpu/context.ts';
import { splitRows } from '../gpu/split.ts';
import { pipelineId } from '../gpu/wgsl.ts';
import { adamwStep } from '../kernels/adamw/adamw.ts';
import { outputHeadBackward, outputHeadForward } from '../kernels/head/head.ts';
import { planPipelines, type PipelineSpec } from '../kernels/plan.ts';
import { bytesPerRow, type WeightType } from '../kernels/quant/formats.ts';
import type { WeightTensor } from '../kernels/quant/tensor.ts';
import { clipScale, segmentSum, sumSquares } from '../kernels/reduce/reduce.ts';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm/rmsnorm.ts';
import { PROJECTIONS, projectionShape, type ModelConfig, type Projection } from '../model/config.ts';
import { embedTokens, extraLayerBuffers, layerAttnShape, layerBackward, layerForward, type LayerBuffers, type LayerGrads, type LayerPass } from '../model/layer.ts';
import type { Lora, LoraModule } from '../model/lora.ts';
import { weightTypes, type BaseModel, type LayerWeights, type Quant } from '../model/model.ts';
import type { PairIds } from '../model/batch.ts';
import { batchDims } from '../model/transformer.ts';
import { usesAttnDs, type Dims } from '../model/workspace.ts';
import { layoutGroups } from '../train/step.ts';
import { attentionBackward, attentionForward, type AttnShape } from '../kernels/attention/attention.ts';

/** One micro-batch's shape (the workspace's dims, as model/transformer.ts batchDims gives them) and what it runs. */
export interface StepPlan {
  dims: Dims;
  /** The adapter (rank, adapted projections, dropout probability), or null: the bare base model, forward only. */
  lora: { r: number; targets: readonly Projection[]; dropout: number } | null;
  /** Backward and the optimizer update too (training); false: log-probs only. */
  backward: boolean;
  /** The backward adds its LoRA gradients to those already there (a micro-batch's groups after the first). */
  accumulate?: boolean;
}

/** The plans of the groups runMicroBatch runs these pairs in (train/step.ts layoutGroups), one per group. */
export function stepPlans(pairs: PairIds[], lora: StepPlan['lora'], backward: boolean): StepPlan[] {
  // Any seed: it decides the masks, not the shapes.
  return layoutGroups(pairs, 0, !!lora && lora.dropout > 0).map((g, k) => ({ dims: batchDims(g.batch, lora?.r ?? 0), lora, backward, accumulate: k > 0 }));
}

/** The pipelines of one step of `plan` on a model of `cfg` stored as `quant`, each once: all, or its forward pass's. */
export function modelStepPipelines(ctx: GpuContext, cfg: ModelConfig, quant: Quant, plan: StepPlan, part: 'all' | 'forward' = 'all'): PipelineSpec[] {
  const c = cfg;
  const dims = plan.dims;
  const M = dims.M;
  const types = weightTypes(quant);
  return planPipelines(ctx, (rec) => {
    const buf = (bytes = 4) => rec.ctx.buffer('plan', bytes);
    const weight = (type: WeightType, rows: number, K: number): WeightTensor => {
      const parts = splitRows(rows, bytesPerRow(type, K), Math.min(ctx.caps.maxStorageBufferBindingSize, ctx.caps.maxBufferSize));
      return { name: 'plan', type, rows, K, byteLength: rows * bytesPerRow(type, K), parts: parts.map((p) => ({ buffer: buf(p.byteLength), start: p.start, end: p.end })) };
    };
    const layers: LayerWeights[] = Array.from({ length: c.L }, (_, l) => {
      const proj = Object.fromEntries(PROJECTIONS.map((p) => [p, weight(types.linear, ...projectionShape(c, p))])) as Record<Projection, WeightTensor>;
      const lw: LayerWeights = { attnNorm: buf(), mlpNorm: buf(), proj, bias: c.qkvBias ? { q_proj: buf(), k_proj: buf(), v_proj: buf() } : null };
      if (c.qkNorm) Object.assign(lw, { qNorm: buf(), kNorm: buf() });
      if (c.sandwichNorms) Object.assign(lw, { postAttnNorm: buf(), postFfNorm: buf() });
      if (c.layerTypes?.[l] === 'sliding_attention') lw.invFreq = buf();
      return lw;
    });
    const embed = weight(types.embed, c.V, c.C);
    const model: BaseModel = { cfg: c, quant, embed, layers, finalNorm: buf(), lmHead: c.tieEmbeddings ? embed : weight(types.embed, c.V, c.C), invFreq: buf(), bytes: 0 };
    const l0 = plan.lora;
    const lora: Lora | null = l0 && {
      cfg: { r: l0.r, alpha: 1, dropout: l0.dropout, targets: [...l0.targets], useRslora: false },
      R: l0.r,
      scale: 1,
      targets: [...l0.targets],
      modules: layers.map((_, layer) => Object.fromEntries(l0.targets.map((p) => {
        const [N, K] = projectionShape(c, p);
        const m = { layer, proj: p, N, K, A: buf(), B: buf(), dA: buf(), dB: buf(), mA: buf(), vA: buf(), mB: buf(), vB: buf() } satisfies LoraModule;
        return [p, m];
      }))),
      params: 0,
    };
    const b = buf(2 ** 31); // every activation and scratch: only sizes are ever looked at
    const bufs = { xn: b, rstd1: b, q: b, k: b, v: b, att: b, x2: b, xn2: b, rstd2: b, g: b, u: b, a: b } as LayerBuffers;
    for (const [name] of extraLayerBuffers(c)) bufs[name] = b;
    const grads: LayerGrads = { dres: b, dxn: b, datt: b, dq: b, dk: b, dv: b, da: b, dg: b, du: b, loraDu: b, dkRaw: c.qkNorm ? b : undefined };
    const shape: AttnShape = { B: dims.nSeq, Tq: dims.T, Tk: dims.T, H: c.H, Hkv: c.Hkv, D: c.D, branch: !!dims.shared };
    const ds = usesAttnDs(ctx, c, dims, plan.backward) ? b : null;
    const pass: LayerPass = {
      model,
      lora,
      M,
      bufs,
      attend: {
        T: dims.T,
        pos0: 0,
        positions: dims.shared ? b : undefined,
        forward: (r, l, lb) => attentionForward(r, lb.att, b, lb.q, lb.k, lb.v, b, layerAttnShape(c, l, shape)),
        backward: (r, l, lb, g) => attentionBackward(r, g.dq, g.dk, g.dv, g.datt, lb.q, lb.k, lb.v, lb.att, b, b, layerAttnShape(c, l, shape), ds),
      },
      loraU: () => b,
      dropout: l0 && l0.dropout > 0 ? () => ({ p: l0.dropout, seed: 1 }) : undefined,
      loraScratch: b,
    };
    // model/transformer.ts's forward ...
    embedTokens(rec, model, b, b, M, b);
    for (let l = 0; l < c.L; l++) layerForward(rec, pass, l, b, b);
    rmsnormForward(rec, b, b, b, model.finalNorm, M, c.C, c.eps);
    const training = plan.backward && !!lora;
    outputHeadForward(rec, b, b, b, b, b, b, model.lmHead, dims.S, training ? b : undefined);
    segmentSum(rec, b, b, b, b, dims.segs ?? dims.nSeq);
    if (!training || part === 'forward') return;
    // ... its backward ...
    outputHeadBackward(rec, b, b, b, b, dims.S, c.C);
    rmsnormBackward(rec, b, b, b, model.finalNorm, b, M, c.C, false);
    for (let l = c.L - 1; l >= 0; l--) {
      layerForward(rec, pass, l, b, null);
      layerBackward(rec, pass, grads, l, b, !!plan.accumulate);
    }
    // ... and train/optimizer.ts's update.
    sumSquares(rec, b, [{ buffer: b, n: 1 }], b);
    clipScale(rec, b, b, 1);
    adamwStep(rec, b, b, b, b, 1, { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 }, b);
  });
}

/** The pipelines of `plans` being created ahead (precompileModel), in two batches. */
export interface Precompile {
  /** Resolves with how many the steps' forward passes use, once they are ready (created first). */
  forward: Promise<number>;
  /** Resolves with how many more the backward passes and the optimizer use, once those are ready too. */
  rest: Promise<number>;
}

/**
 * Starts creating the pipelines of `plans` (a step's, and others a caller expects) on ctx: first what their forward
 * passes use, then the rest, so a step's forward can run on Dawn's queue while its backward's pipelines are still
 * being created (Transformer.backward waits for them: ctx.compiled()). Measured on SwiftShader (2 cores, #18's
 * 3-layer D 64 Llama, r 16, 8 demo pairs): 13 of the step's 27 pipelines are the forward's; the other 14 were
 * ready 7.5 s into a 19.1 s step whose forward alone takes ~10 s (a 6.8 s compile beside a 16.7 s step made it
 * 4.0 s longer, not 6.8). A pipeline that fails here is left out: its first real use compiles it again
 * and reports the error where it belongs. `onDone(done, total)` counts them as they are ready: the forward's
 * batch, or with `counted` 'all' both batches.
 */
export function precompileModel(ctx: GpuContext, cfg: ModelConfig, quant: Quant, plans: readonly StepPlan[], onDone?: (done: number, total: number) => void, counted: 'forward' | 'all' = 'all'): Precompile {
  const seen = new Set<string>();
  const batch = (part: 'forward' | 'all') => {
    const list: PipelineSpec[] = [];
    for (const plan of plans) {
      for (const p of modelStepPipelines(ctx, cfg, quant, plan, part)) {
        const key = pipelineId(p);
        if (!seen.has(key)) {
          seen.add(key);
          list.push(p);
        }
      }
    }
    return list;
  };
  const first = batch('forward');
  const second = batch('all');
  const total = first.length + (counted === 'all' ? second.length : 0);
  let done = 0;
  const count = () => onDone?.(++done, total);
  const forward = ctx.precompile(first, count).then(() => first.length, () => first.length);
  const rest = ctx.precompile(second, counted === 'all' ? count : undefined).then(() => second.length, () => second.length);
  return { forward, rest };
}
