// LoRA parameters, their gradients and AdamW moments on the GPU, with PEFT's options and initialisation.
// Tensor names follow PEFT so adapters round-trip with PEFT, vLLM and llama.cpp's convert_lora_to_gguf.py.
import type { GpuContext } from '../gpu/context.ts';
import { Rng } from '../util/rng.ts';
import { PROJECTIONS, projectionModule, projectionShape, type ModelConfig, type Projection } from './config.ts';

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names (q_proj, …) or 'all-linear'. */
  targets: Projection[] | 'all-linear';
  useRslora: boolean;
}

export const DEFAULT_LORA: LoraConfig = { r: 16, alpha: 32, dropout: 0.05, targets: 'all-linear', useRslora: false };

export interface LoraModule {
  layer: number;
  proj: Projection;
  N: number; // out features
  K: number; // in features
  A: GPUBuffer; // (R, K) f32 lora_A
  B: GPUBuffer; // (N, R) f32 lora_B
  dA: GPUBuffer; // (R, K) f32 gradient (accumulated over micro-batches)
  dB: GPUBuffer; // (N, R) f32
  mA: GPUBuffer; // (R, K) f32 AdamW first moment
  vA: GPUBuffer; // (R, K) f32 second moment
  mB: GPUBuffer; // (N, R)
  vB: GPUBuffer; // (N, R)
}

export interface Lora {
  cfg: LoraConfig;
  R: number;
  /** alpha / r, or alpha / sqrt(r) with rsLoRA (PEFT). */
  scale: number;
  targets: Projection[];
  /** modules[layer][proj], undefined where not targeted. */
  modules: Partial<Record<Projection, LoraModule>>[];
  /** Total trainable parameters. */
  params: number;
}

export function peftName(layer: number, proj: Projection, which: 'lora_A' | 'lora_B'): string {
  return `base_model.model.model.layers.${layer}.${projectionModule(proj)}.${proj}.${which}.weight`;
}

export function resolveTargets(t: LoraConfig['targets']): Projection[] {
  if (t === 'all-linear') return [...PROJECTIONS];
  for (const p of t) if (!PROJECTIONS.includes(p)) throw new Error(`target_modules: unknown module ${p} (one of ${PROJECTIONS.join(', ')} or all-linear)`);
  return PROJECTIONS.filter((p) => t.includes(p));
}

export function validateLoraConfig(c: LoraConfig): void {
  if (!Number.isInteger(c.r) || c.r < 1 || c.r > 1024) throw new Error(`r: must be an integer in 1..1024, got ${c.r}`);
  if (!(c.alpha > 0)) throw new Error(`lora_alpha: must be > 0, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`lora_dropout: must be in [0, 1), got ${c.dropout}`);
  resolveTargets(c.targets);
}

/**
 * Creates a LoRA with PEFT's initialisation: A ~ kaiming_uniform(a=√5), i.e. U(−1/√K, 1/√K); B = 0.
 * `init` may supply existing weights (an imported adapter) by PEFT name.
 */
export function createLora(ctx: GpuContext, cfg: ModelConfig, lc: LoraConfig, seed: number, init?: Map<string, Float32Array>): Lora {
  validateLoraConfig(lc);
  const targets = resolveTargets(lc.targets);
  const R = lc.r;
  const rng = new Rng(seed);
  const modules: Lora['modules'] = [];
  let params = 0;
  for (let l = 0; l < cfg.L; l++) {
    const row: Partial<Record<Projection, LoraModule>> = {};
    for (const proj of targets) {
      const [N, K] = projectionShape(cfg, proj);
      const nameA = peftName(l, proj, 'lora_A');
      const nameB = peftName(l, proj, 'lora_B');
      let a = init?.get(nameA);
      let b = init?.get(nameB);
      if (init && (!a || !b)) throw new Error(`adapter: ${!a ? nameA : nameB} is missing`);
      if (a && a.length !== R * K) throw new Error(`adapter: ${nameA} has ${a.length} values, expected (${R}, ${K})`);
      if (b && b.length !== N * R) throw new Error(`adapter: ${nameB} has ${b.length} values, expected (${N}, ${R})`);
      if (!a) {
        const bound = 1 / Math.sqrt(K);
        a = new Float32Array(R * K);
        for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
      }
      b ??= new Float32Array(N * R);
      const zeros = (n: number, label: string) => {
        const buf = ctx.buffer(label, n * 4);
        ctx.write(buf, new Float32Array(n));
        return buf;
      };
      const tag = `L${l}.${proj}`;
      row[proj] = {
        layer: l,
        proj,
        N,
        K,
        A: ctx.upload(`${tag}.A`, a),
        B: ctx.upload(`${tag}.B`, b),
        dA: zeros(R * K, `${tag}.dA`),
        dB: zeros(N * R, `${tag}.dB`),
        mA: zeros(R * K, `${tag}.mA`),
        vA: zeros(R * K, `${tag}.vA`),
        mB: zeros(N * R, `${tag}.mB`),
        vB: zeros(N * R, `${tag}.vB`),
      };
      params += R * (N + K);
    }
    modules.push(row);
  }
  const scale = lc.useRslora ? lc.alpha / Math.sqrt(R) : lc.alpha / R;
  return { cfg: lc, R, scale, targets, modules, params };
}

export function* loraModules(lora: Lora): Generator<LoraModule> {
  for (const row of lora.modules) for (const p of PROJECTIONS) if (row[p]) yield row[p]!;
}

export function releaseLora(ctx: GpuContext, lora: Lora): void {
  for (const m of loraModules(lora)) for (const b of [m.A, m.B, m.dA, m.dB, m.mA, m.vA, m.mB, m.vB]) ctx.release(b);
}

/** Reads LoRA weights (or gradients) back by PEFT name. */
export async function readLora(ctx: GpuContext, lora: Lora, what: 'weights' | 'grads'): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const m of loraModules(lora)) {
    out.set(peftName(m.layer, m.proj, 'lora_A'), await ctx.readF32(what === 'weights' ? m.A : m.dA, lora.R * m.K));
    out.set(peftName(m.layer, m.proj, 'lora_B'), await ctx.readF32(what === 'weights' ? m.B : m.dB, m.N * lora.R));
  }
  return out;
}
