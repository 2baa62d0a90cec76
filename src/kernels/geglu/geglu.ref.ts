// float64 reference for geglu.wgsl: y = gelu_tanh(g) * u (PyTorch's gelu(approximate='tanh')).

const S2PI = Math.sqrt(2 / Math.PI);
const A = 0.044715;

export function geluTanhRef(x: number): number {
  return 0.5 * x * (1 + Math.tanh(S2PI * (x + A * x * x * x)));
}

export function gegluForwardRef(g: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  const y = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) y[i] = geluTanhRef(g[i]) * u[i];
  return y;
}

export function gegluBackwardRef(dy: ArrayLike<number>, g: ArrayLike<number>, u: ArrayLike<number>) {
  const dg = new Float64Array(g.length);
  const du = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const x = g[i];
    const t = Math.tanh(S2PI * (x + A * x * x * x));
    const dgelu = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * S2PI * (1 + 3 * A * x * x);
    dg[i] = dy[i] * u[i] * dgelu;
    du[i] = dy[i] * geluTanhRef(x);
  }
  return { dg, du };
}
