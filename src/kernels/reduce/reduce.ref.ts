// float64 references for reduce.wgsl.

export function segmentSumRef(values: ArrayLike<number>, offsets: ArrayLike<number>): { sums: Float64Array; means: Float64Array } {
  const G = offsets.length - 1;
  const sums = new Float64Array(G);
  const means = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    let s = 0;
    for (let i = offsets[g]; i < offsets[g + 1]; i++) s += values[i];
    sums[g] = s;
    means[g] = offsets[g + 1] > offsets[g] ? s / (offsets[g + 1] - offsets[g]) : 0;
  }
  return { sums, means };
}

export function sumSquaresRef(parts: ArrayLike<number>[]): number {
  let s = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) s += p[i] * p[i];
  return s;
}

export function clipScaleRef(normSq: number, maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) return 1;
  return Math.min(1, maxNorm / (Math.sqrt(normSq) + 1e-6));
}
