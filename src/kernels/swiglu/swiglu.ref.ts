// float64 reference for swiglu.wgsl.

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function swigluForwardRef(g: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  const y = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) y[i] = g[i] * sigmoid(g[i]) * u[i];
  return y;
}

export function swigluBackwardRef(dy: ArrayLike<number>, g: ArrayLike<number>, u: ArrayLike<number>) {
  const dg = new Float64Array(g.length);
  const du = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const s = sigmoid(g[i]);
    dg[i] = dy[i] * u[i] * s * (1 + g[i] * (1 - s));
    du[i] = dy[i] * g[i] * s;
  }
  return { dg, du };
}
