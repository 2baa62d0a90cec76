import { describe, expect, it } from 'vitest';
import { loraBackward, loraForward, type LoraDropout } from '../../src/kernels/lora/lora.ts';
import { dropoutMask, loraBackwardRef, loraForwardRef } from '../../src/kernels/lora/lora.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { checkOp, checkRefGrad, forceEnv, type Want } from './op.ts';

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** f32 sums of O(sqrt(T)) terms: the absolute tolerance follows the output's own scale. */
function close(ref: ArrayLike<number>): Want {
  return { ref, atol: 1e-5 * Math.max(1e-3, maxAbs(ref)), rtol: 1e-4 };
}

// split and wg force the kernel's variants: the barrier-free loop (split 1) and the workgroup-split reduction.
// tile forces the register tile (TA x TB outputs per invocation), which 'auto' picks from the device and shape.
interface Case { M: number; N: number; K: number; R: number; dropout?: LoraDropout; acc: boolean; split: 'auto' | number; wg?: number; tile?: [number, number] }

async function runCase(c: Case) {
  const { M, N, K, R } = c;
  const rng = new Rng(M * 7919 + N * 31 + K * 7 + R);
  const scale = 2 / R;
  const x = rng.randn(M * K);
  const a = rng.randn(R * K, 1 / Math.sqrt(K));
  const b = rng.randn(N * R, 1 / Math.sqrt(R));
  const y0 = rng.randn(M * N);
  const dy = rng.randn(M * N);
  const dx0 = rng.randn(M * K);
  const dA0 = rng.randn(R * K);
  const dB0 = rng.randn(N * R);
  forceEnv({ lora: { split: c.split, wg: c.wg ?? 'auto', tile: c.tile ?? 'auto' } });
  const f = loraForwardRef(y0, x, a, b, M, N, K, R, scale, c.dropout);
  const g = loraBackwardRef(dy, x, a, b, M, N, K, R, scale, c.dropout);
  const plus = (base: Float32Array, d: Float64Array) => (c.acc ? d.map((v, i) => v + base[i]) : d);
  return checkOp({
    inputs: { x, a, b, dy },
    // y and dx are added into; dA and dB too when accumulating gradients (else poisoned).
    outputs: { y: y0, u: M * R, du: M * R, dx: dx0, dA: c.acc ? dA0 : R * K, dB: c.acc ? dB0 : N * R },
    run: (rec, q) => {
      loraForward(rec, q.y, q.u, q.x, q.a, q.b, M, N, K, R, scale, c.dropout);
      loraBackward(rec, q.dA, q.dB, q.dx, q.dy, q.x, q.u, q.a, q.b, q.du, M, N, K, R, scale, { accumulateGrads: c.acc, dropout: c.dropout });
    },
    want: {
      u: close(f.u), y: close(f.y), du: close(g.du), dB: close(plus(dB0, g.dB)), dA: close(plus(dA0, g.dA)), dx: close(g.dx.map((v, i) => v + dx0[i])),
    },
  });
}

describe('lora', () => {
  it('reference gradients match finite differences (with dropout)', () => {
    const [M, N, K, R] = [3, 5, 4, 2];
    const rng = new Rng(3);
    const d = { p: 0.3, seed: 11 };
    const x = toF64(rng.randn(M * K));
    const a = toF64(rng.randn(R * K));
    const b = toF64(rng.randn(N * R));
    const w = toF64(rng.randn(M * N));
    const zero = new Float64Array(M * N);
    const g = loraBackwardRef(w, x, a, b, M, N, K, R, 1.5, d);
    const fy = (xx: Float64Array, aa: Float64Array, bb: Float64Array) => dot(w, loraForwardRef(zero, xx, aa, bb, M, N, K, R, 1.5, d).y);
    checkRefGrad('dx', (v) => fy(v, a, b), x, g.dx);
    checkRefGrad('dA', (v) => fy(x, v, b), a, g.dA);
    checkRefGrad('dB', (v) => fy(x, a, v), b, g.dB);
  });

  it('dropout mask keeps 1-p of the elements, depends on the seed, and is inverted', () => {
    const n = 20000;
    const m1 = dropoutMask({ p: 0.25, seed: 1 }, n);
    const m2 = dropoutMask({ p: 0.25, seed: 2 }, n);
    const kept = m1.filter((v) => v > 0).length / n;
    expect(Math.abs(kept - 0.75)).toBeLessThan(0.015);
    expect(m1.filter((v) => v > 0).every((v) => Math.abs(v - 4 / 3) < 1e-12)).toBe(true);
    let same = 0;
    for (let i = 0; i < n; i++) same += +((m1[i] > 0) === (m2[i] > 0));
    // Independent masks agree on 0.75² + 0.25² = 62.5% of elements.
    expect(Math.abs(same / n - 0.625)).toBeLessThan(0.02);
  });

  const cases: Case[] = [
    { M: 1, N: 1, K: 1, R: 1, acc: false, split: 'auto' },
    { M: 7, N: 33, K: 45, R: 3, acc: false, split: 1 },
    { M: 7, N: 33, K: 45, R: 3, acc: true, split: 64, wg: 64, dropout: { p: 0.1, seed: 5 } },
    { M: 13, N: 67, K: 130, R: 16, acc: false, split: 'auto', dropout: { p: 0.5, seed: 9 } },
    { M: 13, N: 67, K: 130, R: 16, acc: true, split: 8, wg: 64 },
    { M: 33, N: 19, K: 21, R: 64, acc: false, split: 'auto' },
    { M: 3, N: 4871, K: 9, R: 5, acc: false, split: 'auto' },
    { M: 5, N: 11, K: 4867, R: 6, acc: true, split: 'auto', dropout: { p: 0.05, seed: 123456789 } },
    { M: 70, N: 96, K: 64, R: 8, acc: false, split: 4, wg: 16, dropout: { p: 0.2, seed: 3 } },
    { M: 9, N: 10, K: 300, R: 2, acc: false, split: 1, wg: 64 },
    { M: 13, N: 67, K: 130, R: 16, acc: true, split: 'auto', tile: [4, 4], dropout: { p: 0.1, seed: 2 } },
    { M: 11, N: 29, K: 37, R: 7, acc: false, split: 'auto', tile: [12, 8], dropout: { p: 0.3, seed: 4 } },
    { M: 11, N: 29, K: 37, R: 7, acc: true, split: 4, wg: 16, tile: [8, 4] },
  ];
  for (const c of cases) {
    const d = c.dropout ? ` p=${c.dropout.p}` : '';
    it(`forward and backward match the reference, M=${c.M} N=${c.N} K=${c.K} R=${c.R}${d} acc=${c.acc} split=${c.split} wg=${c.wg ?? 'auto'} tile=${c.tile ?? 'auto'}`, async () => {
      await runCase(c);
    });
  }

  it('gradients are bitwise reproducible', async () => {
    const c: Case = { M: 37, N: 40, K: 50, R: 4, acc: false, split: 'auto', dropout: { p: 0.1, seed: 1 } };
    const r1 = await runCase(c);
    const r2 = await runCase(c);
    expect(Array.from(r1.dA)).toEqual(Array.from(r2.dA));
    expect(Array.from(r1.dB)).toEqual(Array.from(r2.dB));
  });

  it('dx may be null', async () => {
    const [M, N, K, R] = [4, 6, 5, 2];
    const rng = new Rng(8);
    const [x, a, b, dy] = [rng.randn(M * K), rng.randn(R * K), rng.randn(N * R), rng.randn(M * N)];
    const g = loraBackwardRef(dy, x, a, b, M, N, K, R, 1);
    await checkOp({
      inputs: { x, a, b, dy },
      outputs: { y: new Float32Array(M * N), u: M * R, du: M * R, dA: R * K, dB: N * R },
      run: (rec, q) => {
        loraForward(rec, q.y, q.u, q.x, q.a, q.b, M, N, K, R, 1);
        loraBackward(rec, q.dA, q.dB, null, q.dy, q.x, q.u, q.a, q.b, q.du, M, N, K, R, 1, { accumulateGrads: false });
      },
      want: { dA: close(g.dA), dB: close(g.dB) },
    });
  });
});
