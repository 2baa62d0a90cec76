// Embedding gather: x[i, :] = table[ids[i], :] for the ids whose row lies in this dispatch's part of the table,
// dequantized by the loaders of quant/weights.wgsl (joined in front). One invocation per 4 columns (C is even
// for f16 and a multiple of 32 for quantized tables; f32 tables of other widths take the scalar tail).
// Ids >= V read nothing and write zeros; that is done by the dispatch of the first part.

struct Params {
  n: u32,
  C: u32,
  start: u32,   // first row of this part
  end: u32,     // end row of this part
  V: u32,
  zeros: u32,   // 1 for the dispatch that writes the rows of out-of-range ids
  quads: u32,   // ceil(C / 4)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;  // (n, C) f32
@group(0) @binding(2) var<storage, read> ids: array<u32>;      // (n) u32
@group(0) @binding(3) var<storage, read> w: array<u32>;        // (end - start, C) packed part of the table

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  let i = t / p.quads;
  if (i >= p.n) { return; }
  let c = (t % p.quads) * 4u;
  let id = ids[i];
  let o = i * p.C + c;
  if (id >= p.V) {
    if (p.zeros == 1u) {
      for (var j = 0u; j < 4u && c + j < p.C; j++) { x[o + j] = 0.0; }
    }
    return;
  }
  if (id < p.start || id >= p.end) { return; }
  let row = id - p.start;
  if (c + 4u <= p.C && (p.C & 1u) == 0u) {
    let v = w_load4(row, c, p.C);
    x[o] = v.x;
    x[o + 1u] = v.y;
    x[o + 2u] = v.z;
    x[o + 3u] = v.w;
  } else {
    for (var j = 0u; j < 4u && c + j < p.C; j++) { x[o + j] = w_get(row, c + j, p.C); }
  }
}
