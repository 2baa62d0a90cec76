// A back-of-the-envelope GPU memory estimate for one training step, from model dims alone. It is meant to
// tell "fits" from "hopeless" before a multi-gigabyte download, not to predict the allocator to the byte.
import type { Quant, RunConfig } from '../../engine/types.ts';
import type { ModelDims } from './models.ts';
import { PROJECTIONS, type Projection } from '../../model/projections.ts';

/** Bytes per weight for each storage format (q4_0: 32 weights in 18 bytes, q8_0: 32 in 34). */
export const BYTES_PER_WEIGHT: Record<Quant, number> = { q4_0: 18 / 32, q8_0: 34 / 32, f16: 2, none: 4 };

export const LINEAR_MODULES = PROJECTIONS;
export type LinearModule = Projection;

/** [in, out] features of each linear module of one layer. */
export function moduleShapes(d: ModelDims): Record<LinearModule, [number, number]> {
  const q = d.H * d.D;
  const kv = d.Hkv * d.D;
  return {
    q_proj: [d.C, q],
    k_proj: [d.C, kv],
    v_proj: [d.C, kv],
    o_proj: [q, d.C],
    gate_proj: [d.C, d.F],
    up_proj: [d.C, d.F],
    down_proj: [d.F, d.C],
  };
}

export function resolveTargets(targets: RunConfig['targets']): LinearModule[] {
  if (targets === 'all-linear') return [...LINEAR_MODULES];
  return LINEAR_MODULES.filter((m) => targets.includes(m));
}

export interface MemoryInput {
  dims: ModelDims;
  quant: Quant;
  batchSize: number;
  maxLength: number;
  r: number;
  targets: RunConfig['targets'];
}

export interface MemoryEstimate {
  baseBytes: number;
  loraParams: number;
  loraBytes: number;
  activationBytes: number;
  scratchBytes: number;
  totalBytes: number;
  /** The biggest single allocation: it must fit maxBufferSize. */
  largestBufferBytes: number;
  largestBufferWhat: string;
}

export function estimateMemory(x: MemoryInput): MemoryEstimate {
  const { dims: d } = x;
  const q = BYTES_PER_WEIGHT[x.quant];
  const shapes = moduleShapes(d);
  const perLayerWeights = LINEAR_MODULES.reduce((s, m) => s + shapes[m][0] * shapes[m][1], 0);
  const embedding = d.V * d.C;
  const weights = d.L * perLayerWeights + embedding * (d.tied ? 1 : 2);
  const norms = (2 * d.L + 1) * d.C * 4;
  const baseBytes = weights * q + norms;

  const targets = resolveTargets(x.targets);
  const loraParams = d.L * targets.reduce((s, m) => s + x.r * (shapes[m][0] + shapes[m][1]), 0);
  const loraBytes = loraParams * 4 * 4; // weights, grads, Adam m and v, all f32

  // Chosen and rejected run through the model together, so M rows per micro-batch.
  const M = 2 * x.batchSize * x.maxLength;
  const activationBytes = (d.L + 1) * M * d.C * 4;
  const scratchBytes = M * (6 * d.C + 3 * d.F + 2 * d.H * d.D) * 4;

  const candidates: [string, number][] = [
    ['embedding table', embedding * q],
    ['FFN weight', d.C * d.F * q],
    ['FFN activations', M * d.F * 4],
    ['saved hidden states', M * d.C * 4 * (d.L + 1)],
  ];
  const [largestBufferWhat, largestBufferBytes] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    baseBytes,
    loraParams,
    loraBytes,
    activationBytes,
    scratchBytes,
    totalBytes: baseBytes + loraBytes + activationBytes + scratchBytes,
    largestBufferBytes,
    largestBufferWhat,
  };
}

/** What the page may assume it can use: WebGPU does not expose VRAM, so half the reported RAM, else 4 GiB. */
export function availableBytes(deviceMemoryGiB: number | undefined): number {
  const gib = 1024 ** 3;
  return deviceMemoryGiB && deviceMemoryGiB > 0 ? (deviceMemoryGiB * gib) / 2 : 4 * gib;
}

export type Fit = 'fits' | 'tight' | 'too-big';

export function fitOf(used: number, limit: number): Fit {
  if (!(limit > 0)) return 'fits';
  if (used > limit) return 'too-big';
  return used > 0.8 * limit ? 'tight' : 'fits';
}
