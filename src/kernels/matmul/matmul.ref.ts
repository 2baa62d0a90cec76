// float64 references for matmul.wgsl / matmul_shared.wgsl, on decoded weights (formats.ts decodeWeight):
// the GPU dequantizes exactly the same values, so only the summation differs.

/** Y (M, N) = X (M, K) · Wᵀ (+ bias).  w: (N, K) decoded. */
export function matmulForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, M: number, N: number, K: number, bias?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s;
    }
  }
  return y;
}

/** dX (M, K) = dY (M, N) · W.  w: (N, K) decoded. */
export function matmulBackwardInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const dx = new Float64Array(M * K);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const g = dy[m * N + n];
      for (let k = 0; k < K; k++) dx[m * K + k] += g * w[n * K + k];
    }
  }
  return dx;
}
