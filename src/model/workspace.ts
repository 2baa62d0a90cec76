// Every activation and gradient buffer one forward/backward pass needs, sized for one micro-batch.
// Only the residual stream entering each layer is kept for backward (L+1 buffers of (M, C));
// everything else inside a layer is recomputed from it during backward ("per-layer activation recompute").
import type { GpuContext } from '../gpu/context.ts';
import { attentionDsBytes, attentionUsesDs, type AttnShape } from '../kernels/attention/attention.ts';
import type { ModelConfig, Projection } from './config.ts';
import { extraLayerBuffers } from './layer.ts';
import { PROJECTIONS } from './projections.ts';

/** What the workspace's sizes read of a model's config (the memory planner passes no more than this). */
export type WorkspaceShape = Pick<ModelConfig, 'L' | 'C' | 'F' | 'H' | 'Hkv' | 'D' | 'qkNorm' | 'sandwichNorms'>;

export interface Dims {
  M: number; // rows: nSeq * T
  nSeq: number; // sequences in the row layout (batch.ts: rowSeqs)
  T: number;
  S: number; // selected (completion) positions
  R: number; // LoRA rank (0: no LoRA)
  /** Scored sequences (segments of the S positions), default nSeq: 2B in the shared-prompt layout, where nSeq is B. */
  segs?: number;
  /** The shared-prompt layout: attention's lengths hold (3 nSeq) u32, and a positions buffer (M) u32 exists. */
  shared?: boolean;
}

function attnShape(c: WorkspaceShape, d: Dims): AttnShape {
  return { B: d.nSeq, Tq: d.T, Tk: d.T, H: c.H, Hkv: c.Hkv, D: c.D, branch: !!d.shared };
}

/** Whether the backward gets attention's dS scratch on this device (see attentionBackward). */
export function usesAttnDs(ctx: Pick<GpuContext, 'caps'>, c: WorkspaceShape, d: Dims, backward: boolean): boolean {
  return backward && attentionUsesDs(ctx as GpuContext, attnShape(c, d));
}

/**
 * Buffer sizes in bytes, by name; planBytes sums them so the plan and the allocation cannot disagree.
 * attnDs: hold attention's (nSeq, H, T, T) dS for the backward (usesAttnDs).
 */
export function workspaceLayout(c: WorkspaceShape, d: Dims, backward: boolean, attnDs = false): Record<string, number> {
  const { M, nSeq, T, S, R } = d;
  const segs = d.segs ?? nSeq;
  const f = 4;
  const QD = c.H * c.D;
  const KD = c.Hkv * c.D;
  const sizes: Record<string, number> = {
    ids: M * 4,
    lengths: (d.shared ? 3 : 1) * nSeq * 4, // (nSeq) u32, with promptLen and branchStart after it when shared
    rows: S * 4,
    labels: S * 4,
    offsets: (segs + 1) * 4,
    logp: S * f,
    lseHead: S * f,
    logitSum: S * f,
    seqSums: segs * f,
    seqMeans: segs * f,
    seqLogitSums: segs * f,
    seqLogitMeans: segs * f,
    acts: (c.L + 1) * M * c.C * f,
    xn: M * c.C * f,
    rstd1: M * f,
    q: M * QD * f,
    k: M * KD * f,
    v: M * KD * f,
    att: M * QD * f,
    lse: nSeq * c.H * T * f,
    x2: M * c.C * f,
    xn2: M * c.C * f,
    rstd2: M * f,
    g: M * c.F * f,
    u: M * c.F * f,
    a: M * c.F * f,
    loraU: 7 * M * R * f,
    hN: M * c.C * f,
    rstdF: M * f,
  };
  if (d.shared) sizes.positions = M * 4; // (M) u32 RoPE positions
  for (const [name, perRow] of extraLayerBuffers(c)) sizes[name] = M * perRow * f;
  if (backward) {
    Object.assign(sizes, {
      dlogp: S * f,
      headDir: S * c.C * f, // (S, C) ∂logp/∂h from the training forward's output head
      dres: M * c.C * f,
      dxn: M * c.C * f,
      datt: M * QD * f,
      dq: M * QD * f,
      dk: M * KD * f,
      dv: M * KD * f,
      da: M * c.F * f,
      dg: M * c.F * f,
      du: M * c.F * f,
      dhN: M * c.C * f,
      loraDu: M * Math.max(R, 1) * f,
    });
    if (c.qkNorm) sizes.dkRaw = M * KD * f;
    if (attnDs) sizes.attnDs = attentionDsBytes(attnShape(c, d));
  }
  return sizes;
}

export function planBytes(c: WorkspaceShape, d: Dims, backward: boolean, attnDs = false): number {
  return Object.values(workspaceLayout(c, d, backward, attnDs)).reduce((a, b) => a + Math.max(4, Math.ceil(b / 4) * 4), 0);
}

type Bufs = Record<string, GPUBuffer>;

/**
 * Dims a workspace needs to fit both a and b: a run whose training micro-batches take one layout (with LoRA dropout,
 * two sequences per pair) and its eval batches the other (shared prompt) then allocates once, not at every switch.
 */
export function unionDims(a: Dims, b: Dims): Dims {
  return {
    M: Math.max(a.M, b.M), nSeq: Math.max(a.nSeq, b.nSeq), T: Math.max(a.T, b.T), S: Math.max(a.S, b.S), R: b.R,
    segs: Math.max(a.segs ?? a.nSeq, b.segs ?? b.nSeq), shared: !!a.shared || !!b.shared,
  };
}

export class Workspace {
  readonly b: Bufs = {};
  readonly acts: GPUBuffer[] = [];
  readonly loraU = new Map<Projection, GPUBuffer>();
  /** Whether b.attnDs exists. */
  readonly attnDs: boolean;

  constructor(
    private readonly ctx: GpuContext,
    readonly cfg: ModelConfig,
    readonly dims: Dims,
    readonly backward: boolean,
  ) {
    this.attnDs = usesAttnDs(ctx, cfg, dims, backward);
    const layout = workspaceLayout(cfg, dims, backward, this.attnDs);
    for (const [name, size] of Object.entries(layout)) {
      if (name === 'acts' || name === 'loraU') continue;
      this.b[name] = ctx.buffer(name, size);
    }
    const actBytes = dims.M * cfg.C * 4;
    for (let l = 0; l <= cfg.L; l++) this.acts.push(ctx.buffer(`x${l}`, actBytes));
    if (dims.R > 0) {
      for (const p of PROJECTIONS) {
        this.loraU.set(p, ctx.buffer(`loraU.${p}`, dims.M * dims.R * 4));
      }
    }
  }

  fits(d: Dims, backward: boolean): boolean {
    const m = this.dims;
    const fitsDs = !this.attnDs || attentionDsBytes(attnShape(this.cfg, d)) <= attentionDsBytes(attnShape(this.cfg, m));
    const segs = (x: Dims) => x.segs ?? x.nSeq;
    return (!backward || this.backward) && d.M <= m.M && d.nSeq <= m.nSeq && segs(d) <= segs(m) && (!d.shared || !!m.shared) && d.S <= m.S && d.R === m.R && fitsDs;
  }


  release(): void {
    for (const b of Object.values(this.b)) this.ctx.release(b);
    for (const b of this.acts) this.ctx.release(b);
    for (const b of this.loraU.values()) this.ctx.release(b);
  }
}
