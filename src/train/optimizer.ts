// The optimizer step over all LoRA parameters: global gradient norm, torch-style clipping, AdamW — all on
// the GPU; only the squared norm is read back (to log grad_norm and to skip non-finite steps).
import type { GpuContext } from '../gpu/context.ts';
import { adamwStep } from '../kernels/adamw/adamw.ts';
import { clipScale, sumSquares, sumSquaresScratchBytes } from '../kernels/reduce/reduce.ts';
import { loraModules, type Lora } from '../model/lora.ts';

export interface OptimizerConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
}

export class LoraOptimizer {
  private readonly normSq: GPUBuffer; // (1) f32
  private readonly scale: GPUBuffer; // (1) f32
  private readonly scratch: GPUBuffer;
  private readonly parts: { buffer: GPUBuffer; n: number }[] = [];

  constructor(
    private readonly ctx: GpuContext,
    private readonly lora: Lora,
  ) {
    for (const m of loraModules(lora)) {
      this.parts.push({ buffer: m.dA, n: lora.R * m.K }, { buffer: m.dB, n: m.N * lora.R });
    }
    this.normSq = ctx.buffer('grad_norm_sq', 4);
    this.scale = ctx.buffer('clip_scale', 4);
    this.scratch = ctx.buffer('norm_scratch', sumSquaresScratchBytes(this.parts));
  }

  /** The global L2 norm of the accumulated gradients. */
  async gradNorm(): Promise<number> {
    const rec = this.ctx.recorder();
    sumSquares(rec, this.normSq, this.parts, this.scratch);
    await rec.submit();
    return Math.sqrt((await this.ctx.readF32(this.normSq, 1))[0]);
  }

  /** Clips by the norm computed in gradNorm() and applies AdamW with learning rate `lr` at 1-based `step`. */
  async apply(cfg: OptimizerConfig, lr: number, step: number): Promise<void> {
    const rec = this.ctx.recorder();
    clipScale(rec, this.scale, this.normSq, cfg.maxGradNorm);
    const hp = { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, step };
    for (const m of loraModules(this.lora)) {
      adamwStep(rec, m.A, m.dA, m.mA, m.vA, this.lora.R * m.K, hp, this.scale);
      adamwStep(rec, m.B, m.dB, m.mB, m.vB, m.N * this.lora.R, hp, this.scale);
    }
    await rec.submit();
  }

  /** Zeroes the gradients (after a skipped, non-finite step). */
  async zeroGrads(): Promise<void> {
    const rec = this.ctx.recorder();
    for (const p of this.parts) rec.clear(p.buffer, 0, p.n * 4);
    await rec.submit();
  }

  release(): void {
    for (const b of [this.normSq, this.scale, this.scratch]) this.ctx.release(b);
  }
}
