// float64 reference for rmsnorm.wgsl.

export function rmsnormForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, M: number, C: number, eps: number) {
  const y = new Float64Array(M * C);
  const rstd = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[m * C + c] ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[m] = r;
    for (let c = 0; c < C; c++) y[m * C + c] = x[m * C + c] * r * w[c];
  }
  return { y, rstd };
}

/** dx for dy, recomputing rstd from x in float64. */
export function rmsnormBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, M: number, C: number, eps: number): Float64Array {
  const { rstd } = rmsnormForwardRef(x, w, M, C, eps);
  const dx = new Float64Array(M * C);
  for (let m = 0; m < M; m++) {
    const r = rstd[m];
    let s = 0;
    for (let c = 0; c < C; c++) s += dy[m * C + c] * w[c] * x[m * C + c];
    const k = (r * r * r * s) / C;
    for (let c = 0; c < C; c++) dx[m * C + c] = r * w[c] * dy[m * C + c] - x[m * C + c] * k;
  }
  return dx;
}
