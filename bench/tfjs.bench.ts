// The baseline the CPO step is measured against: the same step written with TensorFlow.js on its WebGPU
// backend (tfjs-backend-webgpu, its own WGSL kernels), on the same adapter (in Node: the `webgpu` package,
// a second Dawn instance on the same physical adapter), at the same shapes as bench/step.bench.ts.
//
// One step: Llama forward (RMSNorm, RoPE rotate-half, causal GQA attention, SwiGLU, lm_head on the
// completion positions only, as our engine does), LoRA r 16 on all seven projections as trainable
// tf.Variables, the CPO sigmoid loss + cpo_alpha·NLL on the chosen completion tokens, gradients by
// tf.variableGrads, global-norm clipping to 1 and an Adam step (tf.train.adam), then a read-back that waits
// for the update to land. TF.js has no quantized matmul, so the base weights are the Q4_0 (projections) and
// Q8_0 (embedding, lm_head) values dequantized to f32 tensors: 4-8x the bytes our kernels read.
// TF.js keeps every activation of the forward pass on its tape for backward (no recomputation).
import type { GpuContext } from '../src/gpu/context.ts';
import { gpuWait } from '../src/gpu/wait.ts';
import { decodeWeight, encodeWeight, f16BitsToF32, f32ToF16Bits } from '../src/kernels/quant/formats.ts';
import { layoutPairs } from '../src/model/batch.ts';
import { PROJECTIONS, projectionModule, projectionShape, type ModelConfig, type Projection } from '../src/model/config.ts';
import { openModel } from '../src/model/load.ts';
import { hostToF32, type TensorReader } from '../src/model/model.ts';
import { nodeFiles } from '../src/model/node-files.ts';
import { settings } from '../src/settings.ts';
import { Rng } from '../src/util/rng.ts';
import { gradsCommandCase } from './command.ts';
import { GOLDEN_MODEL, goldenConfig, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';
import { QWEN_CFG, randomQwen, stepCase } from './step.bench.ts';
import { registerAllGradients } from './tfjs/gradients.ts';

// TF.js's own typings are not imported: they pull in @webgpu/types 0.1.38 (tfjs-core's pinned dependency),
// whose global GPU* declarations clash with the project's newer ones. This is the slice of the API used here.
declare namespace TF {
  interface Tensor {
    shape: number[];
    isDisposed: boolean;
    dispose(): void;
    data(): Promise<Float32Array | Int32Array>;
  }
  type Tensor1D = Tensor;
  type Tensor2D = Tensor;
  type Tensor4D = Tensor;
  type Scalar = Tensor;
  interface Variable extends Tensor {
    name: string;
  }
  type NamedTensorMap = Record<string, Tensor>;
  interface AdamOptimizer {
    applyGradients(grads: NamedTensorMap): void;
    dispose(): void;
  }
}
type T = TF.Tensor;
type X = T | number;
interface Tf {
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  getGradient(kernel: string): unknown;
  tidy<R extends T>(f: () => R): R;
  tensor1d(v: Float32Array | Int32Array, dtype?: 'float32' | 'int32'): T;
  tensor2d(v: Float32Array, shape: [number, number]): T;
  zeros(shape: number[]): T;
  variable(init: T, trainable: boolean, name: string): TF.Variable;
  oneHot(indices: T, depth: number, on: number, off: number, dtype: 'float32'): T;
  transpose(x: T, perm?: number[]): T;
  reshape(x: T, shape: number[]): T;
  split(x: T, n: number, axis: number): T[];
  concat(xs: T[], axis: number): T;
  slice(x: T, begin: number[], size: number[]): T;
  gather(x: T, indices: T): T;
  squeeze(x: T, axis: number[]): T;
  add(a: X, b: X): T;
  sub(a: X, b: X): T;
  mul(a: X, b: X): T;
  div(a: X, b: X): T;
  minimum(a: X, b: X): T;
  neg(x: T): T;
  square(x: T): T;
  sqrt(x: T): T;
  rsqrt(x: T): T;
  sigmoid(x: T): T;
  softplus(x: T): T;
  softmax(x: T): T;
  sum(x: T, axis?: number, keepDims?: boolean): T;
  mean(x: T, axis?: number, keepDims?: boolean): T;
  logSumExp(x: T, axis: number, keepDims: boolean): T;
  matMul(a: T, b: T, transposeA?: boolean, transposeB?: boolean): T;
  variableGrads(f: () => T, vars: TF.Variable[]): { value: T; grads: TF.NamedTensorMap };
  train: { adam(lr: number, beta1: number, beta2: number, eps: number): TF.AdamOptimizer };
}


// dawn.node frees its instance when the GPU object is garbage-collected (see src/gpu/device.ts): keep it.
const keepAlive: unknown[] = [];
let tfReady: Promise<Tf> | null = null;

/** TF.js on its WebGPU backend over the `webgpu` package's navigator.gpu; throws unless it really is webgpu. */
function loadTf(): Promise<Tf> {
  tfReady ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (!g.navigator?.gpu) {
      const mod = 'webgpu';
      const { create, globals } = (await import(/* @vite-ignore */ mod)) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
      Object.assign(globalThis, globals);
      let gpu = create([]);
      keepAlive.push(gpu);
      // GpuContext.create() ran first and has already pointed Vulkan at SwiftShader if the system has no GPU.
      if (!(await gpu.requestAdapter())) {
        process.env.VK_ICD_FILENAMES = settings.swiftshaderIcd;
        gpu = create([]);
        keepAlive.push(gpu);
      }
      if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      else g.navigator = { gpu };
    }
    const core = '@tensorflow/tfjs-core';
    const backend = '@tensorflow/tfjs-backend-webgpu';
    const tf = (await import(/* @vite-ignore */ core)) as Tf;
    // Registers the 'webgpu' backend at import time when navigator.gpu exists.
    await import(/* @vite-ignore */ backend);
    await registerAllGradients();
    if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') throw new Error(`TF.js: the webgpu backend did not initialise (backend: ${tf.getBackend()})`);
    if (!tf.getGradient('BatchMatMul')) throw new Error('TF.js: gradients are not registered');
    return tf;
  })();
  return tfReady;
}

interface TfLayer {
  attnNorm: TF.Tensor1D;
  mlpNorm: TF.Tensor1D;
  /** (K, N): stored transposed so every projection is a plain x·W. */
  w: Record<Projection, TF.Tensor2D>;
  bias: Partial<Record<Projection, TF.Tensor1D>>;
  /** LoRA, (K, R) and (R, N). */
  A: Record<Projection, TF.Variable>;
  B: Record<Projection, TF.Variable>;
}

interface TfModel {
  embed: TF.Tensor2D; // (V, C)
  lmHeadT: TF.Tensor2D; // (C, V)
  finalNorm: TF.Tensor1D;
  layers: TfLayer[];
  cos: TF.Tensor2D; // (T, D)
  sin: TF.Tensor2D;
  vars: TF.Variable[];
}

/** (rows, K) row-major → the (K, rows) tensor. */
function transposed(tf: Tf, f: Float32Array, rows: number, K: number): TF.Tensor2D {
  return tf.tidy(() => tf.transpose(tf.tensor2d(f, [rows, K])));
}

/** Base weights as the engine's kernels see them: quantized, then dequantized to f32. */
type WeightSource = (name: string, rows: number, K: number, type: 'q4_0' | 'q8_0') => Promise<Float32Array>;

/** The golden model's own weights, through Q4_0 / Q8_0 and back. */
function readerSource(reader: TensorReader): WeightSource {
  return async (name, rows, K, type) => {
    const f = hostToF32(await reader.read(name), name);
    return Float32Array.from(decodeWeight(type, encodeWeight(type, f, rows, K), rows, K));
  };
}

/** What bench/step.bench.ts's random Q4_0 / Q8_0 blocks decode to: random codes times one small scale. */
function randomSource(seed: number): WeightSource {
  const rng = new Rng(seed);
  return async (_name, rows, K, type) => {
    const out = new Float32Array(rows * K);
    if (type === 'q4_0') {
      const d = f16BitsToF32(f32ToF16Bits(0.01));
      for (let i = 0; i < out.length; i += 8) {
        const r = rng.nextU32();
        for (let j = 0; j < 8; j++) out[i + j] = (((r >>> (4 * j)) & 15) - 8) * d;
      }
    } else {
      const d = f16BitsToF32(f32ToF16Bits(0.0005));
      for (let i = 0; i < out.length; i += 4) {
        const r = rng.nextU32();
        for (let j = 0; j < 4; j++) out[i + j] = (((r >>> (8 * j)) & 255) << 24 >> 24) * d;
      }
    }
    return out;
  };
}

async function buildModel(tf: Tf, c: ModelConfig, T: number, weights: WeightSource, vector: (name: string, n: number, fill: number) => Promise<Float32Array>): Promise<TfModel> {
  const R = 16;
  const rng = new Rng(1);
  const vars: TF.Variable[] = [];
  const embedF = await weights('model.embed_tokens.weight', c.V, c.C, 'q8_0');
  const embed = tf.tensor2d(embedF, [c.V, c.C]);
  const lmHeadT = c.tieEmbeddings ? tf.tidy(() => tf.transpose(embed)) : transposed(tf, await weights('lm_head.weight', c.V, c.C, 'q8_0'), c.V, c.C);
  const layers: TfLayer[] = [];
  for (let l = 0; l < c.L; l++) {
    const p = `model.layers.${l}`;
    const layer: TfLayer = {
      attnNorm: tf.tensor1d(await vector(`${p}.input_layernorm.weight`, c.C, 1)),
      mlpNorm: tf.tensor1d(await vector(`${p}.post_attention_layernorm.weight`, c.C, 1)),
      w: {} as TfLayer['w'],
      bias: {},
      A: {} as TfLayer['A'],
      B: {} as TfLayer['B'],
    };
    for (const proj of PROJECTIONS) {
      const [N, K] = projectionShape(c, proj);
      layer.w[proj] = transposed(tf, await weights(`${p}.${projectionModule(proj)}.${proj}.weight`, N, K, 'q4_0'), N, K);
      // PEFT's init: A ~ U(-1/√K, 1/√K), B = 0.
      const bound = 1 / Math.sqrt(K);
      const a = new Float32Array(K * R);
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
      layer.A[proj] = tf.variable(tf.tensor2d(a, [K, R]), true, `L${l}.${proj}.A`);
      layer.B[proj] = tf.variable(tf.zeros([R, N]), true, `L${l}.${proj}.B`);
      vars.push(layer.A[proj], layer.B[proj]);
    }
    if (c.qkvBias) {
      for (const proj of ['q_proj', 'k_proj', 'v_proj'] as const) {
        const n = projectionShape(c, proj)[0];
        layer.bias[proj] = tf.tensor1d(await vector(`${p}.self_attn.${proj}.bias`, n, 0));
      }
    }
    layers.push(layer);
  }
  const finalNorm = tf.tensor1d(await vector('model.norm.weight', c.C, 1));
  // RoPE tables (rotate-half convention): angle[t, i] = t·θ^(-2i/D), duplicated over both halves.
  const half = c.D / 2;
  const cosF = new Float32Array(T * c.D);
  const sinF = new Float32Array(T * c.D);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.pow(c.ropeTheta, (-2 * i) / c.D);
      cosF[t * c.D + i] = cosF[t * c.D + half + i] = Math.cos(a);
      sinF[t * c.D + i] = sinF[t * c.D + half + i] = Math.sin(a);
    }
  }
  return { embed, lmHeadT, finalNorm, layers, cos: tf.tensor2d(cosF, [T, c.D]), sin: tf.tensor2d(sinF, [T, c.D]), vars };
}

function disposeModel(m: TfModel): void {
  m.embed.dispose();
  if (!m.lmHeadT.isDisposed) m.lmHeadT.dispose();
  m.finalNorm.dispose();
  m.cos.dispose();
  m.sin.dispose();
  for (const l of m.layers) {
    l.attnNorm.dispose();
    l.mlpNorm.dispose();
    for (const p of PROJECTIONS) l.w[p].dispose();
    for (const b of Object.values(l.bias)) b.dispose();
  }
  for (const v of m.vars) v.dispose();
}

function tfStepCase(c: ModelConfig, name: string, source: () => Promise<{ weights: WeightSource; vector: (name: string, n: number, fill: number) => Promise<Float32Array>; close?: () => Promise<void> }>, promptLen: number, completionLen: number, pairs: number): BenchCase {
  const rng = new Rng(7);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(c.V - 3));
  const pairIds = Array.from({ length: pairs }, () => ({ promptIds: ids(promptLen), chosenIds: ids(completionLen), rejectedIds: ids(completionLen) }));
  const batch = layoutPairs(pairIds, 0);
  const { nSeq, T, M } = batch;
  const tokens = pairs * 2 * (promptLen + completionLen);
  const beta = 0.1;
  const cpoAlpha = 1;
  const lr = 1e-4;
  const maxGradNorm = 1;
  const R = 16;
  const scale = 32 / R; // lora_alpha / r
  let state: {
    tf: Tf;
    m: TfModel;
    opt: TF.AdamOptimizer;
    ids: TF.Tensor1D;
    rows: TF.Tensor1D;
    onehot: TF.Tensor2D;
    mask: TF.Tensor2D;
  } | null = null;

  const step = (tf: Tf, s: NonNullable<typeof state>) => {
    const { m } = s;
    const { H, Hkv, D, eps } = c;
    const g = H / Hkv;
    const rmsnorm = (x: TF.Tensor2D, w: TF.Tensor1D) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
    const project = (l: TfLayer, p: Projection, x: TF.Tensor2D): TF.Tensor2D => {
      let y = tf.matMul(x, l.w[p]);
      const b = l.bias[p];
      if (b) y = tf.add(y, b);
      return tf.add(y, tf.mul(tf.matMul(tf.matMul(x, l.A[p]), l.B[p]), scale));
    };
    // (M, n·D) → (nSeq, n, T, D) with RoPE applied (rotate-half).
    const heads = (x: TF.Tensor2D, n: number, rope: boolean) => {
      const h = tf.transpose(tf.reshape(x, [nSeq, T, n, D]), [0, 2, 1, 3]);
      if (!rope) return h;
      const [x1, x2] = tf.split(h, 2, -1);
      const rot = tf.concat([tf.neg(x2), x1], -1);
      return tf.add(tf.mul(h, m.cos), tf.mul(rot, m.sin));
    };
    const layer = (l: TfLayer, x: TF.Tensor2D): TF.Tensor2D => {
      const xn = rmsnorm(x, l.attnNorm);
      const q = heads(project(l, 'q_proj', xn), H, true); // (nSeq, H, T, D)
      const k = heads(project(l, 'k_proj', xn), Hkv, true); // (nSeq, Hkv, T, D)
      const v = heads(project(l, 'v_proj', xn), Hkv, false);
      // GQA without repeating K/V: the g query heads of a KV head are stacked as g·T rows.
      const qg = tf.reshape(q, [nSeq, Hkv, g * T, D]);
      const scores = tf.add(tf.mul(tf.matMul(qg, k, false, true), 1 / Math.sqrt(D)), s.mask); // (nSeq, Hkv, g·T, T)
      const att = tf.matMul(tf.softmax(scores), v); // (nSeq, Hkv, g·T, D)
      const attM = tf.reshape(tf.transpose(tf.reshape(att, [nSeq, H, T, D]), [0, 2, 1, 3]), [M, H * D]);
      const x2 = tf.add(x, project(l, 'o_proj', attM));
      const xn2 = rmsnorm(x2, l.mlpNorm);
      const gate = project(l, 'gate_proj', xn2);
      const up = project(l, 'up_proj', xn2);
      const a = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
      return tf.add(x2, project(l, 'down_proj', a));
    };
    const lossFn = () => {
      let x = tf.gather(m.embed, s.ids); // (M, C)
      for (const l of m.layers) x = layer(l, x);
      const hN = tf.gather(rmsnorm(x, m.finalNorm), s.rows); // (S, C): completion positions only
      const logits = tf.matMul(hN, m.lmHeadT); // (S, V)
      const tokenLogp = tf.sub(tf.sum(tf.mul(logits, s.onehot), -1), tf.squeeze(tf.logSumExp(logits, -1, true), [-1])); // (S)
      const seqLogp = tf.sum(tf.reshape(tokenLogp, [nSeq, completionLen]), -1); // (nSeq): chosen first, then rejected
      const chosen = tf.slice(seqLogp, [0], [pairs]);
      const rejected = tf.slice(seqLogp, [pairs], [pairs]);
      // −log σ(z) = softplus(−z) (tf.logSigmoid's custom gradient reads a disposed input under variableGrads).
      const pref = tf.mean(tf.softplus(tf.neg(tf.mul(tf.sub(chosen, rejected), beta))));
      const nll = tf.div(tf.neg(tf.sum(chosen)), pairs * completionLen);
      return tf.add(pref, tf.mul(nll, cpoAlpha));
    };
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn, m.vars);
      const names = Object.keys(grads);
      // Pairwise adds: tf.addN binds every input at once, past WebGPU's 8 storage buffers per stage.
      const norm = tf.sqrt(names.map((n) => tf.sum(tf.square(grads[n]))).reduce((a, b) => tf.add(a, b)));
      const clip = tf.minimum(1, tf.div(maxGradNorm, tf.add(norm, 1e-6)));
      const clipped: TF.NamedTensorMap = {};
      for (const n of names) clipped[n] = tf.mul(grads[n], clip);
      s.opt.applyGradients(clipped);
      return value;
    });
  };

  return {
    name: `cpo step TF.js webgpu ${name} (${pairs} pair${pairs > 1 ? 's' : ''} x ${promptLen}+${completionLen} tok)`,
    async run() {
      if (!state) {
        if (batch.offsets.some((o, i) => i > 0 && o - batch.offsets[i - 1] !== completionLen)) throw new Error('unequal completions');
        const tf = await loadTf();
        const src = await source();
        const m = await buildModel(tf, c, T, src.weights, src.vector).finally(() => src.close?.());
        const maskF = new Float32Array(g(c) * T * T);
        for (let r = 0; r < g(c) * T; r++) for (let t = 0; t < T; t++) maskF[r * T + t] = t > r % T ? -1e9 : 0;
        state = {
          tf,
          m,
          opt: tf.train.adam(lr, 0.9, 0.999, 1e-8),
          ids: tf.tensor1d(Int32Array.from(batch.ids), 'int32'),
          rows: tf.tensor1d(Int32Array.from(batch.rows), 'int32'),
          onehot: tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(batch.labels), 'int32'), c.V, 1, 0, 'float32')),
          mask: tf.tensor2d(maskF, [g(c) * T, T]),
        };
      }
      const s = state;
      const t0 = performance.now();
      const loss = step(s.tf, s);
      // gpuWait: the same throttled wait as our own submits (see src/gpu/wait.ts), or the comparison is unfair.
      const lossValue = (await gpuWait(loss.data()))[0];
      loss.dispose();
      // Wait for the Adam update itself: a read queued after it (the last variable it wrote).
      await gpuWait(s.m.vars[s.m.vars.length - 1].data());
      const ms = performance.now() - t0;
      if (!Number.isFinite(lossValue)) throw new Error(`TF.js step: loss ${lossValue}`);
      return { ms, tokens };
    },
    dispose() {
      if (!state) return;
      const s = state;
      disposeModel(s.m);
      s.opt.dispose();
      for (const t of [s.ids, s.rows, s.onehot, s.mask]) t.dispose();
      state = null;
    },
  };
}

const g = (c: ModelConfig) => c.H / c.Hkv;

function argNumber(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

export async function cases(ctx: GpuContext, o: BenchOptions): Promise<BenchCase[]> {
  const out: BenchCase[] = [];
  const cfg = await goldenConfig();
  if (cfg) {
    const source = async () => {
      const { reader, close } = await openModel(nodeFiles(GOLDEN_MODEL));
      return { weights: readerSource(reader), vector: async (name: string) => hostToF32(await reader.read(name), name), close };
    };
    out.push(tfStepCase(cfg, 'golden tiny f32 (q4_0 dequantized: TF.js has no quantized matmul)', source, 24, 24, 4));
  }
  const half = Math.max(2, o.tokens / 4);
  const qwenSource = async () => ({
    weights: randomSource(0),
    vector: async (_name: string, n: number, fill: number) => new Float32Array(n).fill(fill),
  });
  // Qwen2.5-0.5B's shapes at a reduced depth (--tfjs-layers, default 2 of 24): a full-depth TF.js step does
  // not fit a bench run on a CPU adapter. Our engine is measured at the same depth here, apples to apples.
  const L = Math.min(QWEN_CFG.L, Math.max(1, argNumber('tfjs-layers') ?? 2));
  const qwen: ModelConfig = { ...QWEN_CFG, L };
  out.push(tfStepCase(qwen, `Qwen2.5-0.5B shapes L=${L} f32 (random q4_0 dequantized) r16 all-linear`, qwenSource, half, half, 1));
  out.push(stepCase(ctx, `ours Qwen2.5-0.5B shapes L=${L} q4_0 r16 all-linear`, qwen, async () => randomQwen(ctx, qwen), half, half, 1));
  // The shapes of #18's `cli grads` comparison: 3 layers, C 256, head_dim 64, a 32k vocabulary, 8 pairs of about the
  // demo's lengths (44-token ALMA prompts, 21-token completions). The output head is most of this step.
  const grads: ModelConfig = { ...QWEN_CFG, C: 256, F: 512, L: 3, H: 4, Hkv: 2, D: 64, V: 32000 };
  const shape = 'L3 C256 V32k (grads shapes)';
  out.push(tfStepCase(grads, `${shape} f32 (random q4_0 dequantized) r16 all-linear`, qwenSource, 44, 21, 8));
  out.push(stepCase(ctx, `ours ${shape} q4_0 r16 all-linear`, grads, async () => randomQwen(ctx, grads), 44, 21, 8));
  out.push(gradsCommandCase(shape));
  return out;
}
