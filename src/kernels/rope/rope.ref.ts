// float64 reference for rope.wgsl. The angle is formed as HF forms it, an f32 product of f32(position) and the
// f32 inv_freq; cos and sin of that angle are then exact (float64), so the test measures the GPU's cos/sin.

// Row t is at position pos0 + (t mod T), or positions[t] when given.
export function ropeRef(x: ArrayLike<number>, invFreq: ArrayLike<number>, nTok: number, T: number, nHeads: number, D: number, pos0 = 0, inverse = false, positions?: ArrayLike<number>): Float64Array {
  const half = D / 2;
  const y = Float64Array.from(x);
  for (let t = 0; t < nTok; t++) {
    const pos = positions ? positions[t] : pos0 + (t % T);
    for (let h = 0; h < nHeads; h++)
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(Math.fround(pos) * invFreq[i]);
        const c = Math.cos(angle);
        const s = inverse ? -Math.sin(angle) : Math.sin(angle);
        const o = (t * nHeads + h) * D + i;
        const x1 = x[o];
        const x2 = x[o + half];
        y[o] = x1 * c - x2 * s;
        y[o + half] = x2 * c + x1 * s;
      }
  }
  return y;
}
