// A whole CPO step (forward, loss, backward, AdamW) on the golden tiny Llama and on Qwen2.5-0.5B's shapes
// with random Q4_0 weights, plus the planned peak GPU bytes for one pair of 512 tokens at those shapes; and the
// step on translation pairs (the demo dataset's ALMA prompts) in both layouts, two sequences per pair and the
// shared prompt, at the same tokens (tokens/s counts each pair's tokens as two sequences in both rows).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readPreferenceFile, tokenizePairs } from '../src/data/index.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { f32ToF16Bits, QK, type WeightType } from '../src/kernels/quant/formats.ts';
import { kernelEnv } from '../src/kernels/env.ts';
import { uploadWeight } from '../src/kernels/quant/tensor.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import { layoutSharedPrompt, pairTokens, type PairIds } from '../src/model/batch.ts';
import { ropeInvFreq } from '../src/kernels/rope/rope.ts';
import { PROJECTIONS, projectionShape, type ModelConfig, type Projection } from '../src/model/config.ts';
import { openModel } from '../src/model/load.ts';
import { createLora, releaseLora, type Lora } from '../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel, type LayerWeights } from '../src/model/model.ts';
import { nodeFiles } from '../src/model/node-files.ts';
import { Transformer } from '../src/model/transformer.ts';
import { LoraOptimizer } from '../src/train/optimizer.ts';
import { batchShape, planModel, planStep } from '../src/train/memory-plan.ts';
import { layoutBatch, runMicroBatch } from '../src/train/step.ts';
import { Rng } from '../src/util/rng.ts';
import { GOLDEN_MODEL, goldenConfig, QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export const QWEN_CFG: ModelConfig = {
  architecture: 'Qwen2ForCausalLM', C: QWEN05.C, F: QWEN05.F, L: QWEN05.L, H: QWEN05.H, Hkv: QWEN05.Hkv, D: QWEN05.D, V: QWEN05.V,
  eps: 1e-6, ropeTheta: 1e6, ropeScaling: null, tieEmbeddings: true, qkvBias: true, maxPositions: 32768, bosId: null, eosId: 151645,
};

/** Random weights straight in ggml's block layout (random nibbles/bytes, one small scale): no host f32 copy. */
export function randomWeight(ctx: GpuContext, name: string, type: WeightType, rows: number, K: number, rng: Rng) {
  const block = type === 'q4_0' ? 18 : 34;
  const bytes = new Uint8Array((rows * K * block) / QK);
  for (let i = 0; i < bytes.length; i += 4) {
    const r = rng.nextU32();
    bytes[i] = r;
    bytes[i + 1] = r >>> 8;
    bytes[i + 2] = r >>> 16;
    bytes[i + 3] = r >>> 24;
  }
  const d = f32ToF16Bits(type === 'q4_0' ? 0.01 : 0.0005);
  for (let b = 0; b < bytes.length; b += block) {
    bytes[b] = d & 0xff;
    bytes[b + 1] = d >>> 8;
  }
  return uploadWeight(ctx, name, type, bytes, rows, K);
}

/** Qwen2.5-0.5B's shapes (or fewer layers: pass a config) with random Q4_0 projections and a Q8_0 tied embedding. */
export function randomQwen(ctx: GpuContext, c: ModelConfig = QWEN_CFG): BaseModel {
  const rng = new Rng(0);
  const ones = (n: number, label: string) => ctx.upload(label, new Float32Array(n).fill(1));
  const zeros = (n: number, label: string) => ctx.upload(label, new Float32Array(n));
  const embed = randomWeight(ctx, 'embed', 'q8_0', c.V, c.C, rng);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.L; l++) {
    const proj = {} as Record<Projection, ReturnType<typeof randomWeight>>;
    for (const p of PROJECTIONS) {
      const [N, K] = projectionShape(c, p);
      proj[p] = randomWeight(ctx, `L${l}.${p}`, 'q4_0', N, K, rng);
    }
    layers.push({
      attnNorm: ones(c.C, 'n1'),
      mlpNorm: ones(c.C, 'n2'),
      proj,
      bias: { q_proj: zeros(c.H * c.D, 'bq'), k_proj: zeros(c.Hkv * c.D, 'bk'), v_proj: zeros(c.Hkv * c.D, 'bv') },
    });
  }
  let bytes = embed.byteLength;
  for (const l of layers) for (const p of PROJECTIONS) bytes += l.proj[p].byteLength;
  return { cfg: c, quant: 'q4_0', embed, layers, finalNorm: ones(c.C, 'nf'), lmHead: embed, invFreq: ctx.upload('inv_freq', ropeInvFreq(c.D, c.ropeTheta)), bytes };
}

/** A step on random pairs of these lengths. */
export function stepCase(ctx: GpuContext, name: string, c: ModelConfig, make: () => Promise<BaseModel>, promptLen: number, completionLen: number, pairs: number): BenchCase {
  const rng = new Rng(7);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(c.V - 3));
  const batch = Array.from({ length: pairs }, () => ({ promptIds: ids(promptLen), chosenIds: ids(completionLen), rejectedIds: ids(completionLen) }));
  return pairsStepCase(ctx, `cpo step ${name} (${pairs} pair${pairs > 1 ? 's' : ''} x ${promptLen}+${completionLen} tok)`, c, make, batch);
}

/**
 * A step on these pairs; sharedPrompt forces the layout (kernelEnv.step.sharedPrompt) for this case's runs.
 * The model is built on the case's first run and released after its last, so peaks are per case.
 */
export function pairsStepCase(ctx: GpuContext, name: string, c: ModelConfig, make: () => Promise<BaseModel>, batch: PairIds[], sharedPrompt?: boolean): BenchCase {
  let state: { base: BaseModel; lora: Lora; tf: Transformer; opt: LoraOptimizer } | null = null;
  const pairs = batch.length;
  const chosenTokens = batch.reduce((a, p) => a + p.chosenIds.length, 0);
  const tokens = pairTokens(batch);
  const loss = { loss: 'sigmoid' as const, beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 };
  return {
    name,
    async run() {
      if (!state) {
        const base = await make();
        const lora = createLora(ctx, c, { r: 16, alpha: 32, dropout: 0, targets: 'all-linear', useRslora: false }, 1);
        state = { base, lora, tf: new Transformer(ctx, base, lora), opt: new LoraOptimizer(ctx, lora) };
      }
      const { tf, opt } = state;
      const layout = kernelEnv.step.sharedPrompt;
      if (sharedPrompt !== undefined) kernelEnv.step.sharedPrompt = sharedPrompt;
      try {
        const t0 = performance.now();
        await runMicroBatch(tf, batch, loss, { pairs, chosenTokens }, { backward: true, accumulate: false, dropoutSeed: 1 });
        await opt.gradNorm();
        await opt.apply({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 }, 1e-4, 1);
        return { ms: performance.now() - t0, tokens };
      } finally {
        kernelEnv.step.sharedPrompt = layout;
      }
    },
    dispose() {
      if (!state) return;
      state.opt.release();
      state.tf.release();
      releaseLora(ctx, state.lora);
      releaseBaseModel(ctx, state.base);
      state = null;
    },
  };
}

const REPO = resolve(import.meta.dirname ?? '.', '..');

/**
 * The demo dataset's first n pairs (WMT22, ALMA prompts) as the tiny demo model's Llama tokenizer cuts them, with
 * ids folded into a vocabulary of V (only the lengths matter to a step's time).
 */
async function demoPairs(n: number, V: number): Promise<PairIds[]> {
  const file = resolve(REPO, 'public/demo/wmt22-preference.jsonl');
  const read = await readPreferenceFile(new Blob([readFileSync(file)]), { name: file });
  const tiny = resolve(REPO, 'public/models/tiny');
  const tok = await loadTokenizer({ tokenizerJson: JSON.parse(readFileSync(resolve(tiny, 'tokenizer.json'), 'utf8')), tokenizerConfig: JSON.parse(readFileSync(resolve(tiny, 'tokenizer_config.json'), 'utf8')) });
  const fold = (ids: number[] | undefined) => ids?.map((i) => i % V);
  return tokenizePairs(read.rows.slice(0, n), tok, { maxLength: 512, maxPromptLength: 256 }).pairs.map((p) => ({
    promptIds: fold(p.promptIds)!, chosenIds: fold(p.chosenIds)!, rejectedIds: fold(p.rejectedIds)!,
    chosenPromptTail: fold(p.chosenPromptTail), rejectedPromptTail: fold(p.rejectedPromptTail),
  }));
}

/** The two layouts' rows on the same translation pairs, named with the share of tokens the shared prompt saves. */
async function layoutCases(ctx: GpuContext, model: string, c: ModelConfig, make: () => Promise<BaseModel>, n: number): Promise<BenchCase[]> {
  const batch = await demoPairs(n, c.V);
  const all = pairTokens(batch);
  const rows = layoutSharedPrompt(batch).lengths.reduce((a, x) => a + x, 0);
  const saved = (100 * (all - rows)) / all;
  const name = `cpo step ${model}, ${batch.length} WMT22 pairs`;
  console.log(`${name}: ${all} tokens as two sequences per pair, ${rows} with one prompt pass per pair (${saved.toFixed(1)}% fewer); tok/s counts ${all} for both`);
  return [pairsStepCase(ctx, `${name}, 2 seqs/pair`, c, make, batch, false), pairsStepCase(ctx, `${name}, 1 prompt (-${saved.toFixed(0)}% tok)`, c, make, batch, true)];
}

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const out: BenchCase[] = [];
  const cfg = await goldenConfig();
  if (cfg) {
    const load = async () => {
      const opened = await openModel(nodeFiles(GOLDEN_MODEL));
      return loadBaseModel(ctx, opened.cfg, opened.reader, 'q4_0').finally(() => opened.close());
    };
    out.push(stepCase(ctx, 'golden tiny q4_0', cfg, load, 24, 24, 4));
    out.push(...(await layoutCases(ctx, 'golden tiny q4_0', cfg, load, 8)));
  }
  const half = Math.max(2, o.tokens / 4);
  out.push(stepCase(ctx, 'Qwen2.5-0.5B shapes q4_0 r16 all-linear', QWEN_CFG, async () => randomQwen(ctx), half, half, 1));
  out.push(...(await layoutCases(ctx, 'Qwen2.5-0.5B q4_0', QWEN_CFG, async () => randomQwen(ctx), 4)));
  // The planned peak from the engine's own planner (train/memory-plan.ts, what the studio shows), for the layout
  // the step runs (shared prompt: one 769-row sequence for a 256 + 256 pair), beside the measured row's peak.
  const memPairs = [{ promptIds: new Array(256).fill(3), chosenIds: new Array(256).fill(3), rejectedIds: new Array(256).fill(3) }];
  const lora = { r: 16, targets: 'all-linear' as const, dropout: 0 };
  const plan = planStep({ model: planModel(QWEN_CFG), quant: 'q4_0', shape: batchShape(layoutBatch(memPairs, false)), lora, caps: ctx.caps, sourceBytesPerWeight: 0 });
  const gb = (b: number) => (b / 1e9).toFixed(3);
  console.log(
    `planned step peak for one 256 + 256-token pair (Qwen2.5-0.5B, q4_0 base, r 16 all-linear, ${plan.loraParams} trainable): ${gb(plan.stepBytes)} GB ` +
      `(base ${gb(plan.baseBytes)}, LoRA+grads+Adam ${gb(plan.loraBytes)}, workspace ${gb(plan.workspaceBytes)}, scratch ${gb(plan.scratchBytes)}); the row below measures it`,
  );
  out.push(stepCase(ctx, `Qwen2.5-0.5B shapes q4_0 r16 all-linear, planned peak ${plan.stepBytes} B`, QWEN_CFG, async () => randomQwen(ctx), 256, 256, 1));
  return out;
}
