// float64 reference for embedding.wgsl, on the decoded table (formats.ts decodeWeight).

/** x (n, C) = table (V, C) rows at ids; ids >= V give zero rows. */
export function embeddingForwardRef(table: ArrayLike<number>, ids: ArrayLike<number>, V: number, C: number): Float64Array {
  const x = new Float64Array(ids.length * C);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= V) continue;
    for (let c = 0; c < C; c++) x[i * C + c] = table[ids[i] * C + c];
  }
  return x;
}
