// float64 reference for lora.wgsl, and the dropout mask both share (it must match the WGSL bit for bit).
import { dropoutKeys, hash32, type LoraDropout } from './lora.ts';

/** The inverted-dropout multiplier of x's element i: 0 or 1/(1-p). */
export function dropoutMask(d: LoraDropout | undefined, n: number): Float64Array {
  const m = new Float64Array(n).fill(1);
  if (!d || !(d.p > 0)) return m;
  const k = dropoutKeys(d);
  for (let i = 0; i < n; i++) {
    const h = hash32((i >>> 1) ^ k.seedHash);
    m[i] = (i & 1 ? h >>> 16 : h & 0xffff) >= k.threshold ? k.mul : 0;
  }
  return m;
}

function dropped(x: ArrayLike<number>, mask: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * mask[i];
  return out;
}

/** u = drop(x)·Aᵀ (M, R); y = y0 + scale·u·Bᵀ (M, N). */
export function loraForwardRef(
  y0: ArrayLike<number>, x: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>,
  M: number, N: number, K: number, R: number, scale: number, dropout?: LoraDropout,
): { y: Float64Array; u: Float64Array } {
  const xd = dropped(x, dropoutMask(dropout, M * K));
  const u = new Float64Array(M * R);
  for (let m = 0; m < M; m++)
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += xd[m * K + k] * a[r * K + k];
      u[m * R + r] = s;
    }
  const y = Float64Array.from(y0);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += u[m * R + r] * b[n * R + r];
      y[m * N + n] += scale * s;
    }
  return { y, u };
}

/**
 * Gradients of forward's y with respect to A, B and x, given dy (M, N); dx excludes the base layer's part. The
 * products are written out as plain loops rather than through one matmul helper: a reference reads as the maths.
 */
export function loraBackwardRef(
  dy: ArrayLike<number>, x: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>,
  M: number, N: number, K: number, R: number, scale: number, dropout?: LoraDropout,
): { dA: Float64Array; dB: Float64Array; dx: Float64Array; du: Float64Array } {
  const mask = dropoutMask(dropout, M * K);
  const xd = dropped(x, mask);
  const { u } = loraForwardRef(new Float64Array(M * N), x, a, b, M, N, K, R, scale, dropout);
  const du = new Float64Array(M * R);
  for (let m = 0; m < M; m++)
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dy[m * N + n] * b[n * R + r];
      du[m * R + r] = scale * s;
    }
  const dB = new Float64Array(N * R);
  for (let n = 0; n < N; n++)
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += dy[m * N + n] * u[m * R + r];
      dB[n * R + r] = scale * s;
    }
  const dA = new Float64Array(R * K);
  for (let r = 0; r < R; r++)
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += du[m * R + r] * xd[m * K + k];
      dA[r * K + k] = s;
    }
  const dx = new Float64Array(M * K);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += du[m * R + r] * a[r * K + k];
      dx[m * K + k] = s * mask[m * K + k];
    }
  return { dA, dB, dx, du };
}
