// float64 reference for scale.wgsl.

/** alpha · x, plus y0 when given (ACCUM). */
export function scaleRef(x: ArrayLike<number>, alpha: number, y0: ArrayLike<number> | null): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = alpha * x[i] + (y0 ? y0[i] : 0);
  return y;
}
