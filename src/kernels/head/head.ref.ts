// float64 reference for head.wgsl. W is the decoded weight (formats.ts decodeWeight), so quantization is exact here.

export interface HeadForwardRef {
  logp: Float64Array; // (S)
  lse: Float64Array; // (S)
  logitSum: Float64Array; // (S)
  dir: Float64Array; // (S, C) ∂logp[s]/∂h[rows[s]] = W[labels[s]] − Σ_v softmax_v W_v
}

function logitsOf(h: ArrayLike<number>, row: number, W: ArrayLike<number>, V: number, C: number): Float64Array {
  const z = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let acc = 0;
    for (let c = 0; c < C; c++) acc += h[row * C + c] * W[v * C + c];
    z[v] = acc;
  }
  return z;
}

function logSumExp(z: Float64Array): number {
  let m = -Infinity;
  for (const x of z) m = Math.max(m, x);
  let l = 0;
  for (const x of z) l += Math.exp(x - m);
  return m + Math.log(l);
}

/** h (M, C), rows (S), labels (S), W (V, C); dir only with `grad` (the training forward), else empty. */
export function outputHeadForwardRef(
  h: ArrayLike<number>,
  rows: ArrayLike<number>,
  labels: ArrayLike<number>,
  W: ArrayLike<number>,
  V: number,
  C: number,
  grad = false,
): HeadForwardRef {
  const S = rows.length;
  const out = { logp: new Float64Array(S), lse: new Float64Array(S), logitSum: new Float64Array(S), dir: new Float64Array(grad ? S * C : 0) };
  for (let s = 0; s < S; s++) {
    const z = logitsOf(h, rows[s], W, V, C);
    const lse = logSumExp(z);
    out.lse[s] = lse;
    out.logp[s] = z[labels[s]] - lse;
    out.logitSum[s] = z.reduce((a, b) => a + b, 0);
    if (!grad) continue;
    for (let c = 0; c < C; c++) out.dir[s * C + c] = W[labels[s] * C + c];
    for (let v = 0; v < V; v++) {
      const pv = Math.exp(z[v] - lse);
      for (let c = 0; c < C; c++) out.dir[s * C + c] -= pv * W[v * C + c];
    }
  }
  return out;
}

/** dh (M, C): dlogp[s] · dir[s] at rows[s], zero elsewhere, with dir from the forward (outputHeadForwardRef). */
export function outputHeadBackwardRef(dlogp: ArrayLike<number>, rows: ArrayLike<number>, dir: ArrayLike<number>, M: number, C: number): Float64Array {
  const dh = new Float64Array(M * C);
  for (let s = 0; s < rows.length; s++) {
    for (let c = 0; c < C; c++) dh[rows[s] * C + c] = dlogp[s] * dir[s * C + c];
  }
  return dh;
}
