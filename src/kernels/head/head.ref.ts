// float64 reference for head.wgsl. W is the decoded weight (formats.ts decodeWeight), so quantization is exact here.

export interface HeadForwardRef {
  logp: Float64Array; // (S)
  lse: Float64Array; // (S)
  logitSum: Float64Array; // (S)
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

/** h (M, C), rows (S), labels (S), W (V, C). */
export function outputHeadForwardRef(
  h: ArrayLike<number>,
  rows: ArrayLike<number>,
  labels: ArrayLike<number>,
  W: ArrayLike<number>,
  V: number,
  C: number,
): HeadForwardRef {
  const S = rows.length;
  const out = { logp: new Float64Array(S), lse: new Float64Array(S), logitSum: new Float64Array(S) };
  for (let s = 0; s < S; s++) {
    const z = logitsOf(h, rows[s], W, V, C);
    const lse = logSumExp(z);
    out.lse[s] = lse;
    out.logp[s] = z[labels[s]] - lse;
    out.logitSum[s] = z.reduce((a, b) => a + b, 0);
  }
  return out;
}

/** dh (M, C): dlogp[s] · (W[labels[s]] − Σ_v softmax_v W_v) at rows[s], zero elsewhere. */
export function outputHeadBackwardRef(
  dlogp: ArrayLike<number>,
  h: ArrayLike<number>,
  rows: ArrayLike<number>,
  labels: ArrayLike<number>,
  W: ArrayLike<number>,
  M: number,
  V: number,
  C: number,
): Float64Array {
  const dh = new Float64Array(M * C);
  for (let s = 0; s < rows.length; s++) {
    const z = logitsOf(h, rows[s], W, V, C);
    const lse = logSumExp(z);
    const o = rows[s] * C;
    for (let v = 0; v < V; v++) {
      const coef = dlogp[s] * ((v === labels[s] ? 1 : 0) - Math.exp(z[v] - lse));
      for (let c = 0; c < C; c++) dh[o + c] += coef * W[v * C + c];
    }
  }
  return dh;
}
