// Optimizer-side kernels on the LoRA parameters of Qwen2.5-0.5B, rank 16 on every linear layer
// (q, k, v, o, gate, up, down): A (R, in) and B (out, R) per module.
import type { GpuContext } from '../src/gpu/context.ts';
import { adamwStep } from '../src/kernels/adamw/adamw.ts';
import { clipScale, sumSquares, sumSquaresScratchBytes } from '../src/kernels/reduce/reduce.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

function loraSizes(): number[] {
  const { C, F, Hkv, D, R, L } = QWEN05;
  const kv = Hkv * D;
  const mods: [number, number][] = [[C, C], [C, kv], [C, kv], [C, C], [C, F], [C, F], [F, C]]; // [in, out]
  const sizes: number[] = [];
  for (let l = 0; l < L; l++) for (const [i, o] of mods) sizes.push(R * i, o * R);
  return sizes;
}

export async function cases(ctx: GpuContext, _o: BenchOptions): Promise<BenchCase[]> {
  const sizes = loraSizes();
  const n = sizes.reduce((a, b) => a + b, 0);
  const rng = new Rng(0);
  // One flat buffer per tensor kind; the trainer's per-module dispatches are timed separately below.
  const [param, grad] = [0, 1].map((i) => ctx.upload(`flat${i}`, rng.randn(n, 0.01))); // (n) f32
  const [m, v] = ['m', 'v'].map((l) => ctx.upload(l, new Float32Array(n))); // (n) f32
  const scale = ctx.upload('scale', new Float32Array([0.5])); // (1) f32
  const normSq = ctx.buffer('normSq', 4); // (1) f32
  // Per-module views as separate buffers, as the trainer holds them.
  const modGrads = sizes.map((s, i) => ({ buffer: ctx.upload(`g${i}`, rng.randn(s, 0.01)), n: s }));
  const scratch = ctx.buffer('scratch', sumSquaresScratchBytes(modGrads));
  const hp = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 10 };
  const dispose = () => {
    [param, grad, m, v, scale, normSq, scratch, ...modGrads.map((g) => g.buffer)].forEach((b) => ctx.release(b));
  };
  return [
    {
      name: `adamw flat n=${n}`, bytes: 28 * n,
      record: (rec) => adamwStep(rec, param, grad, m, v, n, hp, scale),
    },
    {
      name: `grad norm flat n=${n}`, bytes: 4 * n,
      record: (rec) => sumSquares(rec, normSq, [{ buffer: grad, n }], scratch),
    },
    {
      name: `grad norm + clip ${sizes.length} parts n=${n}`, bytes: 4 * n,
      record: (rec) => {
        sumSquares(rec, normSq, modGrads, scratch);
        clipScale(rec, scale, normSq, 1.0);
      },
      dispose,
    },
  ];
}
