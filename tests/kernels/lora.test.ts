import { afterEach, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { loraBackward, loraForward, type LoraDropout } from '../../src/kernels/lora/lora.ts';
import { dropoutMask, loraBackwardRef, loraForwardRef } from '../../src/kernels/lora/lora.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, expectClose, numericGrad, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

afterEach(resetKernelEnv);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** f32 sums of O(sqrt(T)) terms: the absolute tolerance follows the output's own scale. */
function close(got: ArrayLike<number>, ref: ArrayLike<number>, what: string) {
  expectClose(got, ref, 1e-5 * Math.max(1e-3, maxAbs(ref)), 1e-4, what);
}

// split and wg force the kernel's variants: the barrier-free loop (split 1) and the workgroup-split reduction.
// tile forces the register tile (TA x TB outputs per invocation), which 'auto' picks from the device and shape.
interface Case { M: number; N: number; K: number; R: number; dropout?: LoraDropout; acc: boolean; split: 'auto' | number; wg?: number; tile?: [number, number] }

async function runCase(ctx: GpuContext, c: Case) {
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
  const up = (l: string, d: Float32Array) => ctx.upload(l, d);
  const [bx, ba, bb, by, bdy, bdx, bdA, bdB] = [up('x', x), up('a', a), up('b', b), up('y', y0), up('dy', dy), up('dx', dx0), up('dA', dA0), up('dB', dB0)];
  const [bu, bdu] = [ctx.buffer('u', M * R * 4), ctx.buffer('du', M * R * 4)];
  ctx.poison(bu);
  ctx.poison(bdu);
  if (!c.acc) {
    ctx.poison(bdA);
    ctx.poison(bdB);
  }
  kernelEnv.lora.split = c.split;
  kernelEnv.lora.wg = c.wg ?? 'auto';
  kernelEnv.lora.tile = c.tile ?? 'auto';
  const rec = ctx.recorder();
  loraForward(rec, by, bu, bx, ba, bb, M, N, K, R, scale, c.dropout);
  loraBackward(rec, bdA, bdB, bdx, bdy, bx, bu, ba, bb, bdu, M, N, K, R, scale, { accumulateGrads: c.acc, dropout: c.dropout });
  await rec.submit();
  const f = loraForwardRef(y0, x, a, b, M, N, K, R, scale, c.dropout);
  const g = loraBackwardRef(dy, x, a, b, M, N, K, R, scale, c.dropout);
  const plus = (base: Float32Array, d: Float64Array) => (c.acc ? d.map((v, i) => v + base[i]) : d);
  close(await ctx.readF32(bu, M * R), f.u, 'u');
  close(await ctx.readF32(by, M * N), f.y, 'y');
  close(await ctx.readF32(bdu, M * R), g.du, 'du');
  close(await ctx.readF32(bdB, N * R), plus(dB0, g.dB), 'dB');
  close(await ctx.readF32(bdA, R * K), plus(dA0, g.dA), 'dA');
  close(await ctx.readF32(bdx, M * K), g.dx.map((v, i) => v + dx0[i]), 'dx');
  const out = { dA: await ctx.readF32(bdA, R * K), dB: await ctx.readF32(bdB, N * R) };
  [bx, ba, bb, by, bdy, bdx, bdA, bdB, bu, bdu].forEach((buf) => ctx.release(buf));
  return out;
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
    expectClose(numericGrad((v) => fy(v, a, b), x), g.dx, 1e-8, 1e-6, 'dx');
    expectClose(numericGrad((v) => fy(x, v, b), a), g.dA, 1e-8, 1e-6, 'dA');
    expectClose(numericGrad((v) => fy(x, a, v), b), g.dB, 1e-8, 1e-6, 'dB');
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
      await runCase(await gpu(), c);
    });
  }

  it('gradients are bitwise reproducible', async () => {
    const ctx = await gpu();
    const c: Case = { M: 37, N: 40, K: 50, R: 4, acc: false, split: 'auto', dropout: { p: 0.1, seed: 1 } };
    const r1 = await runCase(ctx, c);
    const r2 = await runCase(ctx, c);
    expect(Array.from(r1.dA)).toEqual(Array.from(r2.dA));
    expect(Array.from(r1.dB)).toEqual(Array.from(r2.dB));
  });

  it('dx may be null', async () => {
    const ctx = await gpu();
    const [M, N, K, R] = [4, 6, 5, 2];
    const rng = new Rng(8);
    const [x, a, b, dy] = [rng.randn(M * K), rng.randn(R * K), rng.randn(N * R), rng.randn(M * N)];
    const [bx, ba, bb, bdy] = [x, a, b, dy].map((v, i) => ctx.upload(`in${i}`, v));
    const [bu, bdu, bdA, bdB, by] = [M * R, M * R, R * K, N * R, M * N].map((n, i) => ctx.buffer(`o${i}`, n * 4));
    [bu, bdu, bdA, bdB].forEach((v) => ctx.poison(v));
    ctx.device.queue.writeBuffer(by, 0, new Float32Array(M * N));
    const rec = ctx.recorder();
    loraForward(rec, by, bu, bx, ba, bb, M, N, K, R, 1);
    loraBackward(rec, bdA, bdB, null, bdy, bx, bu, ba, bb, bdu, M, N, K, R, 1, { accumulateGrads: false });
    await rec.submit();
    const g = loraBackwardRef(dy, x, a, b, M, N, K, R, 1);
    close(await ctx.readF32(bdA, R * K), g.dA, 'dA');
    close(await ctx.readF32(bdB, N * R), g.dB, 'dB');
  });
});
