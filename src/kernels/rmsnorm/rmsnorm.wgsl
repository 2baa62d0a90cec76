// RMSNorm (Llama): y = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps), over rows of C. w is frozen: no dw.
// backward: dx = rstd·w·dy − x · rstd³/C · Σ_c(dy·w·x)   (ACCUM: added into dx, for the residual stream).
// Two layouts: SERIAL gives each row to one invocation (no barriers: CPU rasterizers), otherwise a workgroup
// of WG invocations shares a row and reduces in shared memory by a fixed tree (GPUs). Both sum in a fixed
// order, so results are reproducible run to run. SUBGROUPS (a device whose subgroups all have one size, WG of
// exactly that size): the workgroup is one subgroup and subgroupAdd is the whole reduction, without workgroup memory
// or barriers.
#if SUBGROUPS
enable subgroups;
#endif

struct Params { m: u32, c: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;

#if FORWARD
@group(0) @binding(1) var<storage, read_write> y: array<f32>;    // (M, C) f32
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>; // (M) f32, saved for backward
@group(0) @binding(3) var<storage, read> x: array<f32>;          // (M, C) f32
@group(0) @binding(4) var<storage, read> w: array<f32>;          // (C) f32
#else
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;   // (M, C) f32
@group(0) @binding(2) var<storage, read> dy: array<f32>;         // (M, C) f32
@group(0) @binding(3) var<storage, read> x: array<f32>;          // (M, C) f32
@group(0) @binding(4) var<storage, read> w: array<f32>;          // (C) f32
@group(0) @binding(5) var<storage, read> rstd: array<f32>;       // (M) f32
#endif

const WG = {{WG}}u;

// The per-element term summed over the row.
fn term(o: u32, c: u32) -> f32 {
#if FORWARD
  let v = x[o];
  return v * v;
#else
  return dy[o] * w[c] * x[o];
#endif
}

fn finish(row: u32, o: u32, c: u32, s: f32) {
#if FORWARD
  y[o] = x[o] * s * w[c];
#else
  let r = rstd[row];
  let g = r * w[c] * dy[o] - x[o] * s;
#if ACCUM
  dx[o] += g;
#else
  dx[o] = g;
#endif
#endif
}

// The row scalar that finish() uses, from the row's sum of terms.
fn row_scalar(row: u32, sum: f32) -> f32 {
#if FORWARD
  let r = 1.0 / sqrt(sum / f32(p.c) + p.eps);
  return r;
#else
  let r = rstd[row];
  return r * r * r * sum / f32(p.c);
#endif
}

#if SERIAL
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.m) { return; }
  let base = row * p.c;
  var sum = 0.0;
  for (var c = 0u; c < p.c; c++) { sum += term(base + c, c); }
  let s = row_scalar(row, sum);
#if FORWARD
  rstd[row] = s;
#endif
  for (var c = 0u; c < p.c; c++) { finish(row, base + c, c, s); }
}
#elif SUBGROUPS
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.m) { return; } // uniform across the workgroup (one subgroup), as subgroupAdd requires
  let base = row * p.c;
  var sum = 0.0;
  for (var c = lid; c < p.c; c += WG) { sum += term(base + c, c); }
  let s = row_scalar(row, subgroupAdd(sum));
#if FORWARD
  if (lid == 0u) { rstd[row] = s; }
#endif
  for (var c = lid; c < p.c; c += WG) { finish(row, base + c, c, s); }
}
#else
var<workgroup> red: array<f32, WG>;
var<workgroup> row_s: f32;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.m) { return; } // uniform across the workgroup, so the barriers below stay in uniform control flow
  let base = row * p.c;
  var sum = 0.0;
  for (var c = lid; c < p.c; c += WG) { sum += term(base + c, c); }
  red[lid] = sum;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { red[lid] += red[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    row_s = row_scalar(row, red[0]);
#if FORWARD
    rstd[row] = row_s;
#endif
  }
  workgroupBarrier();
  let s = row_s;
  for (var c = lid; c < p.c; c += WG) { finish(row, base + c, c, s); }
}
#endif
