// What a training run holds on the GPU, planned from the model's shape and the run's settings before anything is
// allocated. Every size comes from the code that allocates it: the weight formats' row bytes and the binding
// split (uploadWeight, quantizeToWeight), the LoRA's eight buffers per module (model/lora.ts), the optimizer's
// norm scratch (train/optimizer.ts), the workspace's layout (model/workspace.ts), the output head's partials
// (kernels/head) and the LoRA dropout copy with scratchBuffer's growth rule. The studio's "Will it fit?" shows
// this plan; tests/train/memory-plan.test.ts checks it against ctx.peakBytes on real steps.
//
// Not counted: the per-submit uniform buffer and readback staging buffers (short-lived, created outside
// ctx.buffer), and the buffers decoding allocates for the end-of-run translations (after the workspace is freed).
import type { Capabilities } from '../gpu/caps.ts';
import type { GpuContext } from '../gpu/context.ts';
import { splitRows } from '../gpu/split.ts';
import { headScratchBytes } from '../kernels/head/head.ts';
import { bytesPerRow, type WeightType } from '../kernels/quant/formats.ts';
import { sumSquaresScratchBytes } from '../kernels/reduce/reduce.ts';
import { grownScratchBytes } from '../kernels/scratch.ts';
import { projectionShape, type ModelConfig } from '../model/config.ts';
import { resolveTargets } from '../model/lora.ts';
import { weightTypes } from '../model/model.ts';
import { PROJECTIONS, type Projection, type Quant } from '../model/projections.ts';
import { usesAttnDs, workspaceLayout, type Dims } from '../model/workspace.ts';
import type { SequenceBatch } from '../model/batch.ts';
import type { RunConfig } from './config.ts';
import { usesSharedPrompt } from './step.ts';

/** What the plan reads of a model's config (ModelInfo.shape carries it to the page). */
export type PlanModel = Pick<ModelConfig, 'L' | 'C' | 'F' | 'H' | 'Hkv' | 'D' | 'V' | 'tieEmbeddings' | 'qkvBias' | 'qkNorm' | 'sandwichNorms' | 'layerTypes'> & {
  /** Gemma 3's sliding layers have RoPE tables of their own. */
  localRope?: boolean;
};

/** A model config's plan shape (plain JSON, so it crosses the worker boundary). */
export function planModel(c: ModelConfig): PlanModel {
  const { L, C, F, H, Hkv, D, V, tieEmbeddings, qkvBias, qkNorm, sandwichNorms, layerTypes } = c;
  return { L, C, F, H, Hkv, D, V, tieEmbeddings, qkvBias, qkNorm, sandwichNorms, layerTypes, localRope: !!c.ropeLocal };
}

/**
 * One micro-batch's shape: its rows of sequences (2 per pair, or 1 per pair of [prompt | chosen | rejected] in
 * the shared-prompt layout), their padded length, and the scored (completion) positions.
 */
export interface StepShape {
  nSeq: number; // row sequences (SequenceBatch.rowSeqs)
  T: number;
  S: number;
  /** The shared-prompt layout (model/batch.ts layoutSharedPrompt), as runMicroBatch picks it (layoutBatch). */
  shared?: boolean;
}

/** A laid-out batch's shape, as the workspace sizes it. */
export function batchShape(b: SequenceBatch): StepShape {
  return { nSeq: b.rowSeqs, T: b.T, S: b.S, shared: !!b.shared };
}

/**
 * The largest micro-batch a run's settings allow: every sequence at maxLength, all but its first token scored.
 * In the shared-prompt layout the worst case is a one-token prompt: a row holds two whole sequences (2 maxLength),
 * so attention's (T, T) buffers double against two sequences; real prompts (a translation's ~40% of the tokens)
 * make rows shorter than that.
 */
export function worstCaseShape(batchSize: number, maxLength: number, shared = false): StepShape {
  const S = 2 * batchSize * Math.max(1, maxLength - 1);
  return shared ? { nSeq: batchSize, T: 2 * maxLength, S, shared } : { nSeq: 2 * batchSize, T: maxLength, S };
}

/**
 * The limits a plan assumes when no device has been opened yet: WebGPU's default limits on a GPU (128 MiB per
 * binding, 256 MiB per buffer, 16 KiB of workgroup memory). A device's own are larger or equal.
 */
export const DEFAULT_CAPS: Capabilities = {
  adapterName: 'unknown adapter', vendor: '', architecture: '', isCpu: false, f16: false, subgroups: false, subgroupMinSize: 0, subgroupMaxSize: 0,
  timestampQuery: false, maxStorageBufferBindingSize: 128 << 20, maxBufferSize: 256 << 20, maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 8, minStorageBufferOffsetAlignment: 256,
};

export interface PlanInput {
  model: PlanModel;
  quant: Quant;
  shape: StepShape;
  lora: { r: number; targets: readonly string[] | 'all-linear'; dropout: number };
  caps: Capabilities;
  /**
   * Bytes per weight in the files the base is read from, for the quantization chunk at load: 2 for f16/bf16
   * safetensors (the default); 0 when the file already holds the stored type (a GGUF of that quant).
   */
  sourceBytesPerWeight?: number;
}

export interface MemoryPlan {
  /** Trainable parameters, as PEFT counts them: r·(in + out) per adapted projection and layer. */
  loraParams: number;
  /** Base weights (projections, embedding, head at their own types), norms, biases, RoPE tables. */
  baseBytes: number;
  /** LoRA A and B with their gradients and AdamW moments, all f32. */
  loraBytes: number;
  /** The optimizer's gradient-norm scratch. */
  optimizerBytes: number;
  /** Activations and gradients of one micro-batch (the workspace). */
  workspaceBytes: number;
  /** The kernels' cached scratch: the output head's partials and LoRA dropout's input copy. */
  scratchBytes: number;
  /** All of the above: what a training step holds at its peak. */
  stepBytes: number;
  /** The high-water mark while the base loads: the weights so far plus one quantization chunk. */
  loadPeakBytes: number;
  /** max(stepBytes, loadPeakBytes). */
  peakBytes: number;
  /** The largest single allocation (it must fit the device's maxBufferSize). */
  largestBuffer: { bytes: number; what: string };
}

/** ctx.buffer's rounding: every allocation is a whole number of 4-byte words, at least one. */
const alloc = (bytes: number) => Math.max(4, Math.ceil(bytes / 4) * 4);

export function planStep(x: PlanInput): MemoryPlan {
  const m = x.model;
  const caps = x.caps;
  const ctx = { caps } as Pick<GpuContext, 'caps'>;
  const binding = Math.min(caps.maxStorageBufferBindingSize, caps.maxBufferSize);
  let largest = { bytes: 0, what: '' };
  const note = (bytes: number, what: string) => {
    if (bytes > largest.bytes) largest = { bytes, what };
  };

  // ---- the base, in loadBaseModel's order, with the quantization chunk on top of what is loaded so far
  const types = weightTypes(x.quant);
  const src = x.sourceBytesPerWeight ?? 2;
  let baseBytes = 0;
  let loadPeakBytes = 0;
  const matrix = (what: string, type: WeightType, rows: number, K: number) => {
    const bpr = bytesPerRow(type, K);
    const parts = splitRows(rows, bpr, binding);
    for (const p of parts) note(alloc(p.byteLength), what);
    const bytes = parts.reduce((a, p) => a + alloc(p.byteLength), 0);
    // quantizeToWeight uploads the source in chunks of at most 64 MiB (one binding), whole rows, freed after each.
    let chunk = 0;
    if (src > 0 && (type === 'q8_0' || type === 'q4_0')) {
      const srcRow = K * src;
      const rowAlign = bpr % 4 === 0 ? 1 : 2;
      const chunkRows = Math.max(rowAlign, Math.floor(Math.min(64 * 2 ** 20, binding) / srcRow / rowAlign) * rowAlign);
      chunk = alloc(Math.min(chunkRows, Math.max(...parts.map((p) => p.end - p.start))) * srcRow);
    }
    loadPeakBytes = Math.max(loadPeakBytes, baseBytes + bytes + chunk);
    baseBytes += bytes;
  };
  const vector = (n: number) => {
    baseBytes += alloc(n * 4);
    loadPeakBytes = Math.max(loadPeakBytes, baseBytes);
  };
  matrix('embedding', types.embed, m.V, m.C);
  vector(m.D / 2);
  if (m.localRope) vector(m.D / 2);
  for (let l = 0; l < m.L; l++) {
    for (const p of PROJECTIONS) {
      const [N, K] = projectionShape(m, p);
      matrix(`${p} weight`, types.linear, N, K);
    }
    if (m.qkvBias) [m.H * m.D, m.Hkv * m.D, m.Hkv * m.D].forEach(vector);
    const norms = 2 + (m.sandwichNorms ? 2 : 0); // input and post-attention; Gemma 3's two more
    for (let i = 0; i < norms; i++) vector(m.C);
    if (m.qkNorm) [m.D, m.D].forEach(vector);
  }
  vector(m.C);
  if (!m.tieEmbeddings) matrix('output head', types.embed, m.V, m.C);

  // ---- the LoRA (A, B, dA, dB and AdamW's m and v of each) and the optimizer
  const targets = resolveTargets(x.lora.targets === 'all-linear' ? 'all-linear' : (x.lora.targets as Projection[]));
  const R = x.lora.r;
  let loraParams = 0;
  let loraBytes = 0;
  const gradParts: { n: number }[] = [];
  for (let l = 0; l < m.L; l++) {
    for (const p of targets) {
      const [N, K] = projectionShape(m, p);
      loraParams += R * (N + K);
      loraBytes += 4 * (alloc(R * K * 4) + alloc(N * R * 4));
      note(alloc(Math.max(R * K, N * R) * 4), `LoRA ${p}`);
      gradParts.push({ n: R * K }, { n: N * R });
    }
  }
  const optimizerBytes = alloc(4) * 2 + alloc(sumSquaresScratchBytes(gradParts));

  // ---- one micro-batch's workspace, as Workspace allocates it
  const { nSeq, T, S, shared } = x.shape;
  const M = nSeq * T;
  const d: Dims = { M, nSeq, T, S, R, segs: shared ? 2 * nSeq : nSeq, shared: !!shared };
  const layout = workspaceLayout(m, d, true, usesAttnDs(ctx, m, d, true));
  let workspaceBytes = 0;
  for (const [name, size] of Object.entries(layout)) {
    if (name === 'acts') {
      workspaceBytes += (m.L + 1) * alloc(M * m.C * 4); // one (M, C) buffer per layer boundary
      note(alloc(M * m.C * 4), 'saved hidden state');
    } else if (name === 'loraU') {
      workspaceBytes += R > 0 ? PROJECTIONS.length * alloc(M * R * 4) : 0; // one (M, R) per projection
    } else {
      workspaceBytes += alloc(size);
      note(alloc(size), `activation ${name}`);
    }
  }

  // ---- the kernels' scratch: the head's partials, and the dropped LoRA input growing through a layer's projections
  const head = headScratchBytes(ctx, { K: m.C, parts: splitRows(m.V, bytesPerRow(types.embed, m.C), binding) }, S, true);
  // The forward-only pass's (eval, a reference pass) and the training forward's (with Σ softmax·W) partials.
  let scratchBytes = alloc(head.forward) + alloc(head.grad);
  note(alloc(head.forward), 'output head partials');
  note(alloc(head.grad), 'output head training partials');
  if (x.lora.dropout > 0) {
    // scratchBuffer replaces a too-small buffer without freeing the old one (a pending recorder may use it).
    let size = 0;
    for (const p of targets) {
      const need = M * projectionShape(m, p)[1] * 4;
      if (size >= need) continue;
      size = grownScratchBytes(size, need, caps.maxBufferSize);
      scratchBytes += alloc(size);
      note(alloc(size), 'LoRA dropout input');
    }
  }

  const stepBytes = baseBytes + loraBytes + optimizerBytes + workspaceBytes + scratchBytes;
  return {
    loraParams,
    baseBytes,
    loraBytes,
    optimizerBytes,
    workspaceBytes,
    scratchBytes,
    stepBytes,
    loadPeakBytes,
    peakBytes: Math.max(stepBytes, loadPeakBytes),
    largestBuffer: largest,
  };
}

/** The plan of a run's settings at their largest micro-batch (worstCaseShape): what "Will it fit?" shows. */
export function planRun(
  model: PlanModel,
  cfg: Pick<RunConfig, 'quant' | 'batchSize' | 'maxLength' | 'r' | 'targets' | 'dropout'>,
  caps: Capabilities = DEFAULT_CAPS,
): MemoryPlan {
  const shared = usesSharedPrompt(cfg.dropout > 0);
  return planStep({ model, quant: cfg.quant, shape: worstCaseShape(cfg.batchSize, cfg.maxLength, shared), lora: { r: cfg.r, targets: cfg.targets, dropout: cfg.dropout }, caps });
}
