// LoRA: every product of the adapter is one small "skinny" matmul
//   out(a, b) (+)= scale · Σ_t L(a, t) · Rr(b, t),   L(a, t) = l[a*la + t*lt],  Rr(b, t) = r[b*rb + t*rt]
// with the operands' strides passed at run time, so one kernel serves all six products (see lora.ts):
//   forward  u = drop(x)·Aᵀ (reduce over K), y += scale·u·Bᵀ (over R)
//   backward du = scale·dy·B (over N), dB = scale·dyᵀ·u, dA = duᵀ·drop(x) (over M), dx += drop'(du·A) (over R).
// Each invocation owns a 4x4 output tile held in four vec4 registers (register tiling, no shared memory).
// With SPLIT, the reduction is also split over `split` invocations of one workgroup, each taking every
// split-th t, and their partials are summed in a fixed order by one of them: deterministic, no float atomics.
//
// Dropout (PEFT: inverted dropout on the LoRA input) is never stored: the mask of x's element at flat index i
// is a pure function of (seed, i), recomputed here in forward, backward and activation recompute alike.
// keep(i) = hash(hash(i) ^ seed_hash) >> 8 >= threshold, with threshold = ceil(p·2^24) (lora.ref.ts mirrors it).

struct Params {
  n_a: u32,         // output rows
  n_b: u32,         // output columns
  n_t: u32,         // reduction length
  la: u32, lt: u32, // strides of L
  rb: u32, rt: u32, // strides of Rr
  split: u32,       // invocations per output tile (1 without SPLIT)
  scale: f32,
  drop_thr: u32,    // keep when (hash >> 8) >= drop_thr
  drop_seed: u32,   // hash of the dropout seed
  drop_mul: f32,    // 1 / (1 - p)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // (n_a, n_b) f32
@group(0) @binding(2) var<storage, read> l: array<f32>;         // L operand, f32, layout by (la, lt)
@group(0) @binding(3) var<storage, read> r: array<f32>;         // Rr operand, f32, layout by (rb, rt)

const WG = {{WG}}u;

// lowbias32 (Chris Wellons): a full-avalanche 32-bit integer hash.
fn hash32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn keep(i: u32) -> f32 {
  return select(0.0, p.drop_mul, (hash32(hash32(i) ^ p.drop_seed) >> 8u) >= p.drop_thr);
}

#if SPLIT
var<workgroup> part: array<vec4<f32>, {{WG}} * 4>; // (WG, 4) partial tiles, one row of 4 per a
#endif

@compute @workgroup_size({{WG}})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
#if SPLIT
  let S = p.split;
#else
  let S = 1u;
#endif
  let tile = (wid.x + wid.y * nwg.x) * (WG / S) + lid / S;
  let slice = lid % S;
  let ntb = (p.n_b + 3u) / 4u;
  let a0 = (tile / ntb) * 4u;
  let b0 = (tile % ntb) * 4u;
  // Rows and columns past the edge read the last valid one, so the hot loop has no bounds checks;
  // their results are never written.
  let last_a = p.n_a - 1u;
  let last_b = p.n_b - 1u;
  let ia = vec4<u32>(min(a0, last_a), min(a0 + 1u, last_a), min(a0 + 2u, last_a), min(a0 + 3u, last_a)) * p.la;
  let ib = vec4<u32>(min(b0, last_b), min(b0 + 1u, last_b), min(b0 + 2u, last_b), min(b0 + 3u, last_b)) * p.rb;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  if (a0 < p.n_a) {
    for (var t = slice; t < p.n_t; t += S) {
      let jl = ia + vec4<u32>(t * p.lt);
      let jr = ib + vec4<u32>(t * p.rt);
      var lv = vec4<f32>(l[jl.x], l[jl.y], l[jl.z], l[jl.w]);
      var rv = vec4<f32>(r[jr.x], r[jr.y], r[jr.z], r[jr.w]);
#if DROP_L
      lv *= vec4<f32>(keep(jl.x), keep(jl.y), keep(jl.z), keep(jl.w));
#endif
#if DROP_R
      rv *= vec4<f32>(keep(jr.x), keep(jr.y), keep(jr.z), keep(jr.w));
#endif
      acc0 += lv.x * rv;
      acc1 += lv.y * rv;
      acc2 += lv.z * rv;
      acc3 += lv.w * rv;
    }
  }
#if SPLIT
  part[lid * 4u] = acc0;
  part[lid * 4u + 1u] = acc1;
  part[lid * 4u + 2u] = acc2;
  part[lid * 4u + 3u] = acc3;
  workgroupBarrier();
  if (slice != 0u) { return; }
  for (var s = 1u; s < S; s++) {
    let q = (lid + s) * 4u;
    acc0 += part[q];
    acc1 += part[q + 1u];
    acc2 += part[q + 2u];
    acc3 += part[q + 3u];
  }
#endif
  if (a0 >= p.n_a) { return; }
  // Unrolled by hand: indexing registers dynamically would spill them to memory on some compilers.
  store_row(a0, b0, acc0);
  store_row(a0 + 1u, b0, acc1);
  store_row(a0 + 2u, b0, acc2);
  store_row(a0 + 3u, b0, acc3);
}

fn store_row(a: u32, b0: u32, acc: vec4<f32>) {
  if (a >= p.n_a) { return; }
  let v = acc * p.scale;
  let o = a * p.n_b + b0;
  store(o, v.x);
  if (b0 + 1u < p.n_b) { store(o + 1u, v.y); }
  if (b0 + 2u < p.n_b) { store(o + 2u, v.z); }
  if (b0 + 3u < p.n_b) { store(o + 3u, v.w); }
}

fn store(o: u32, v: f32) {
#if DROP_OUT
  let d = v * keep(o);
#else
  let d = v;
#endif
#if ACCUM
  out[o] += d;
#else
  out[o] = d;
#endif
}
