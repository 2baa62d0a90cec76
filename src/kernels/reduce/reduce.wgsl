// Deterministic reductions for the loss and the optimizer: fixed thread-to-element maps and fixed tree orders,
// never float atomics, so a step reproduces bit for bit.
//   SEGMENT     one workgroup per segment g: sum and mean of values[offsets[g] .. offsets[g+1]).
//   SUMSQ_PART  one workgroup per BLOCK elements of one part: Σ x² into scratch[outOffset + block].
//   SUMSQ_FINAL one workgroup: Σ scratch[0 .. count) into out[0].
//   CLIP        one thread: torch clip_grad_norm_'s clamped coefficient.
// SUBGROUPS (a device whose subgroups all have one size; WG = that size): the workgroup is one subgroup and
// subgroupAdd is the whole workgroup reduction, without workgroup memory or barriers, as in rmsnorm.wgsl. Its order
// is the hardware's own: fixed on a given device, so a step still reproduces there, but not the tree's order.
#if SUBGROUPS
enable subgroups;
#endif

const WG = {{WG}}u;
const ELEMS = {{ELEMS}}u;   // elements per thread in SUMSQ_PART
const BLOCK = WG * ELEMS;   // elements per SUMSQ_PART workgroup (16384 in every layout: reduce.ts sizes scratch by it)

#if SUBGROUPS
// Every thread must call it, in uniform control flow (one subgroup: the workgroup).
fn wg_sum(t: u32, s: f32) -> f32 {
  return subgroupAdd(s);
}
#else
var<workgroup> red: array<f32, WG>;

// Fixed-shape tree over every thread's s; every thread must call it (it contains barriers).
fn wg_sum(t: u32, s: f32) -> f32 {
  red[t] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (t < stride) {
      red[t] += red[t + stride];
    }
    workgroupBarrier();
  }
  return red[0];
}
#endif

#if SEGMENT
struct Params { G: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;   // (G) f32
@group(0) @binding(2) var<storage, read_write> means: array<f32>;  // (G) f32
@group(0) @binding(3) var<storage, read> values: array<f32>;       // (S) f32
@group(0) @binding(4) var<storage, read> offsets: array<u32>;      // (G+1) u32

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.G) { return; }
  let a = offsets[g];
  let b = offsets[g + 1u];
  var s = 0.0;
  for (var i = a + t; i < b; i += WG) {
    s += values[i];
  }
  let total = wg_sum(t, s);
  if (t == 0u) {
    sums[g] = total;
    means[g] = select(0.0, total / f32(b - a), b > a);
  }
}
#endif

#if SUMSQ_PART
struct Params { n: u32, outOffset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> scratch: array<f32>;  // (Σ blocks) f32 partial sums
@group(0) @binding(2) var<storage, read> x: array<f32>;              // (n) f32 one part

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let blk = wid.x + wid.y * nwg.x;
  if (blk * BLOCK >= p.n) { return; }
  var s = 0.0;
  for (var e = 0u; e < ELEMS; e++) {
    let i = blk * BLOCK + e * WG + t;
    if (i < p.n) {
      let v = x[i];
      s += v * v;
    }
  }
  let total = wg_sum(t, s);
  if (t == 0u) {
    scratch[p.outOffset + blk] = total;
  }
}
#endif

#if SUMSQ_FINAL
struct Params { count: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;     // (1) f32
@group(0) @binding(2) var<storage, read> scratch: array<f32>;       // (count) f32

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  for (var i = t; i < p.count; i += WG) {
    s += scratch[i];
  }
  let total = wg_sum(t, s);
  if (t == 0u) {
    out[0] = total;
  }
}
#endif

#if CLIP
struct Params { maxNorm: f32, enabled: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> scale: array<f32>;   // (1) f32
@group(0) @binding(2) var<storage, read> normSq: array<f32>;        // (1) f32

@compute @workgroup_size(1)
fn main() {
  if (p.enabled == 0u) {
    scale[0] = 1.0;
    return;
  }
  scale[0] = min(1.0, p.maxNorm / (sqrt(normSq[0]) + 1e-6));
}
#endif
