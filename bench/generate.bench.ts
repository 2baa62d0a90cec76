// Decode throughput: one KV-cache step (every layer, the cache append, attention over the prompt, the full
// logits) for the golden tiny Llama and for Qwen2.5-0.5B's shapes with random q4_0 weights, S sequences at once.
// tokens/s = 1000 · S / ms. Run this file directly for end-to-end greedy decoding (host work and logits readback
// included):  node --import tsx --import ./scripts/wgsl-loader.mjs bench/generate.bench.ts
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Decoder } from '../src/generate/decoder.ts';
import { generate } from '../src/generate/generate.ts';
import { GpuContext } from '../src/gpu/context.ts';
import { bytesPerRow, f32ToF16Bits, type WeightType } from '../src/kernels/quant/formats.ts';
import { uploadWeight, type WeightTensor } from '../src/kernels/quant/tensor.ts';
import { ropeInvFreq } from '../src/kernels/rope/rope.ts';
import { PROJECTIONS, projectionShape, type ModelConfig, type Projection } from '../src/model/config.ts';
import { openModel } from '../src/model/load.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel, type LayerWeights } from '../src/model/model.ts';
import { nodeFiles } from '../src/model/node-files.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

const GOLDEN = resolve(import.meta.dirname, '../../shared/golden/model');
// Prompt tokens per sequence; SwiftShader (~1 GFLOP/s) takes ~1 s per Qwen token, so its Qwen prompt is short.
const promptLen = (ctx: GpuContext, cfg: ModelConfig) => (ctx.caps.isCpu && cfg.L > 4 ? 8 : 32);

const QWEN_CFG: ModelConfig = {
  architecture: 'Qwen2ForCausalLM', C: QWEN05.C, F: QWEN05.F, L: QWEN05.L, H: QWEN05.H, Hkv: QWEN05.Hkv, D: QWEN05.D, V: QWEN05.V,
  eps: 1e-6, ropeTheta: 1e6, ropeScaling: null, tieEmbeddings: true, qkvBias: true, maxPositions: 32768, bosId: null, eosId: 151645,
};

/** Random bytes in a block format with every block's f16 scale set to a sane value. */
function randomWeight(ctx: GpuContext, name: string, type: 'q4_0' | 'q8_0', rows: number, K: number, rng: Rng): WeightTensor {
  const bytes = new Uint8Array(bytesPerRow(type, K) * rows);
  const words = new Uint32Array(bytes.buffer, 0, bytes.length >> 2);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();
  const block = type === 'q4_0' ? 18 : 34;
  const scale = f32ToF16Bits(type === 'q4_0' ? 0.004 : 0.0005);
  for (let o = 0; o < bytes.length; o += block) {
    bytes[o] = scale & 0xff;
    bytes[o + 1] = scale >> 8;
  }
  return uploadWeight(ctx, name, type as WeightType, bytes, rows, K);
}

/** Qwen2.5-0.5B's shapes with random weights: q4_0 projections, q8_0 tied embedding (the CLI's --quant q4_0). */
function randomQwen(ctx: GpuContext): BaseModel {
  const cfg = QWEN_CFG;
  const rng = new Rng(0);
  const vec = (name: string, n: number, v: number) => ctx.upload(name, new Float32Array(n).fill(v));
  const embed = randomWeight(ctx, 'embed', 'q8_0', cfg.V, cfg.C, rng);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < cfg.L; l++) {
    const proj = {} as Record<Projection, WeightTensor>;
    for (const p of PROJECTIONS) {
      const [N, K] = projectionShape(cfg, p);
      proj[p] = randomWeight(ctx, `L${l}.${p}`, 'q4_0', N, K, rng);
    }
    layers.push({
      attnNorm: vec('attn_norm', cfg.C, 1),
      mlpNorm: vec('mlp_norm', cfg.C, 1),
      proj,
      bias: { q_proj: vec('bq', cfg.H * cfg.D, 0), k_proj: vec('bk', cfg.Hkv * cfg.D, 0), v_proj: vec('bv', cfg.Hkv * cfg.D, 0) },
    });
  }
  const invFreq = ctx.upload('inv_freq', ropeInvFreq(cfg.D, cfg.ropeTheta));
  return { cfg, quant: 'q4_0', embed, layers, finalNorm: vec('norm', cfg.C, 1), lmHead: embed, invFreq, bytes: 0 };
}

async function goldenModel(ctx: GpuContext): Promise<BaseModel | null> {
  if (!existsSync(GOLDEN)) return null;
  const opened = await openModel(nodeFiles(GOLDEN));
  return loadBaseModel(ctx, opened.cfg, opened.reader, 'none').finally(() => opened.close());
}

/** FLOPs of one decode token: every linear layer, the output head, attention over P keys. */
function tokenFlops(c: ModelConfig, P: number): number {
  const perLayer = PROJECTIONS.reduce((s, p) => s + projectionShape(c, p).reduce((a, b) => a * b), 0);
  return 2 * (c.L * perLayer + c.V * c.C) + 4 * c.L * c.H * c.D * P;
}

function prompts(S: number, P: number, V: number): number[][] {
  const rng = new Rng(1);
  return Array.from({ length: S }, () => Array.from({ length: P }, () => 1 + rng.int(V - 1)));
}

async function stepCase(ctx: GpuContext, name: string, model: BaseModel, S: number, release: boolean): Promise<BenchCase> {
  const dec = new Decoder(ctx, model, null);
  const P = promptLen(ctx, model.cfg);
  dec.reserve({ slots: S, maxLen: P + 8, prefillRows: S * P });
  await dec.prefill(prompts(S, P, model.cfg.V));
  const tokens = new Uint32Array(S).fill(3);
  return {
    name: `decode step ${name} S=${S} (tok/s = 1000·S/ms)`,
    flops: S * tokenFlops(model.cfg, P),
    record: (rec) => dec.recordStep(rec, tokens),
    dispose: () => {
      dec.release();
      if (release) releaseBaseModel(ctx, model);
    },
  };
}

export async function cases(ctx: GpuContext, _o: BenchOptions): Promise<BenchCase[]> {
  const out: BenchCase[] = [];
  const golden = await goldenModel(ctx);
  if (golden) {
    out.push(await stepCase(ctx, 'golden-tiny', golden, 1, false));
    out.push(await stepCase(ctx, 'golden-tiny', golden, 8, true));
  }
  // Built lazily-ish: the weights exist from here until the last Qwen case is disposed.
  const qwen = randomQwen(ctx);
  out.push(await stepCase(ctx, 'qwen2.5-0.5b q4_0', qwen, 1, ctx.caps.isCpu));
  if (!ctx.caps.isCpu) out.push(await stepCase(ctx, 'qwen2.5-0.5b q4_0', qwen, 8, true));
  return out;
}

/** End to end: greedy decoding of n tokens for S prompts, host work and readback included. */
async function endToEnd(ctx: GpuContext, name: string, model: BaseModel, S: number, n: number): Promise<void> {
  const dec = new Decoder(ctx, model, null);
  const P = promptLen(ctx, model.cfg);
  const p = prompts(S, P, model.cfg.V);
  await generate(dec, p, { maxNewTokens: 2, eosIds: [] }); // warm-up: pipelines, buffers
  const t0 = performance.now();
  let t1 = 0;
  await generate(dec, p, { maxNewTokens: n, eosIds: [], onStep: (s) => void (s === 1 && (t1 = performance.now())) });
  const t2 = performance.now();
  const decodeTps = (S * (n - 1) * 1000) / (t2 - t1);
  console.log(`${name} S=${S}: prefill ${S}×${P} tokens ${(t1 - t0).toFixed(0)} ms, decode ${decodeTps.toFixed(1)} tokens/s (${((t2 - t1) / (n - 1)).toFixed(1)} ms/step)`);
  dec.release();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ctx = await GpuContext.create();
  const golden = await goldenModel(ctx);
  if (golden) {
    await endToEnd(ctx, 'golden-tiny', golden, 1, 32);
    await endToEnd(ctx, 'golden-tiny', golden, 8, 32);
    releaseBaseModel(ctx, golden);
  }
  const qwen = randomQwen(ctx);
  await endToEnd(ctx, 'qwen2.5-0.5b q4_0', qwen, 1, ctx.caps.isCpu ? 4 : 64);
  if (!ctx.caps.isCpu) await endToEnd(ctx, 'qwen2.5-0.5b q4_0', qwen, 8, 64);
  releaseBaseModel(ctx, qwen);
  ctx.destroy();
}
