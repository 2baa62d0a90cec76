// LoRA: every product of the adapter is one small "skinny" matmul
//   out(a, b) (+)= scale · Σ_t L(a, t) · Rr(b, t),   L(a, t) = l[a*la + t*lt],  Rr(b, t) = r[b*rb + t*rt]
// with the operands' strides passed at run time, so one kernel serves all six products (see lora.ts):
//   forward  u = drop(x)·Aᵀ (reduce over K), y += scale·u·Bᵀ (over R)
//   backward du = scale·dy·B (over N), dB = scale·dyᵀ·u, dA = duᵀ·drop(x) (over M), dx += drop'(du·A) (over R).
// Each invocation owns a TA x TB output tile held in vec4 registers (register tiling, no shared memory).
// With SPLIT, the reduction is also split over `split` invocations of one workgroup, each taking every
// split-th t, and their partials are summed in a fixed order by one of them: deterministic, no float atomics.
//
// Dropout (PEFT: inverted dropout on the LoRA input): the mask of x's element at flat index i is a pure function
// of (seed, i), never stored. DROP_X writes drop(x) to a scratch buffer for the products that read x, in forward,
// backward and activation recompute alike; dx's product applies the mask to its output (DROP_OUT).
// One lowbias32 hash per pair of elements decides both: h = hash(floor(i / 2) ^ seed_hash), keep the even one when
// (h & 0xffff) >= threshold and the odd one when (h >> 16) >= threshold, threshold = ceil(p·2^16) (lora.ref.ts
// mirrors it). The hash's shifts are its cost on SwiftShader: this is a quarter of the hashing of the former
// mask (hash(hash(i) ^ seed_hash) per element); dropout's cost over the plain forward at 64x896->4864 went from
// ~13% to ~0-5% (bench).

struct Params {
  n_a: u32,         // output rows
  n_b: u32,         // output columns
  n_t: u32,         // reduction length
  la: u32, lt: u32, // strides of L
  rb: u32, rt: u32, // strides of Rr
  split: u32,       // invocations per output tile (1 without SPLIT)
  scale: f32,
  drop_thr: u32,    // keep the even element of a pair when (hash & 0xffff) >= drop_thr
  drop_seed: u32,   // hash of the dropout seed
  drop_mul: f32,    // 1 / (1 - p)
  rows: u32,        // SHORT: rows of out per invocation
  drop_thr_hi: u32, // drop_thr << 16: the odd element's test on the whole hash
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

fn keep_pair(j: u32) -> vec2<f32> {
  let h = hash32(j ^ p.drop_seed);
  return select(vec2<f32>(0.0), vec2<f32>(p.drop_mul), vec2<bool>((h & 0xffffu) >= p.drop_thr, h >= p.drop_thr_hi));
}

fn keep(i: u32) -> f32 {
  let k = keep_pair(i >> 1u);
  return select(k.x, k.y, (i & 1u) != 0u);
}

#if SPLIT
var<workgroup> part: array<vec4<f32>, {{WG}} * {{NACC}}>; // (WG, NACC) partial tiles
#endif

#if DROP_X
// xd = drop(x) over n_a elements, a pair per invocation: the products read xd instead of hashing in their tiles.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;  // pair j: elements 2j, 2j + 1
  let i = 2u * j;
  if (i >= p.n_a) { return; }
  let k = keep_pair(j);
  out[i] = l[i] * k.x;
  if (i + 1u < p.n_a) { out[i + 1u] = l[i + 1u] * k.y; }
}
#elif SHORT
// Products over R (y += scale·u·Bᵀ, dx += drop'(du·A)), on a CPU adapter. R is short, so an invocation keeps the
// R x SC values of Rr for its SC = {{SC}} columns in registers and streams `rows` rows of L past them: per row, R
// loads of L that every lane shares (the same row) feed SC·R FMAs. The tile kernel below reloads Rr for every row
// tile, with lanes 16 columns apart: a gather per value. Here lane i of a group of 4 owns columns c + 4j with
// c = 4·SC·q + i, so the four lanes' loads of A (whose columns are contiguous) and every store of a row are
// contiguous. Columns are kept in vec4 groups g: columns c + 16g + 4k, k = 0..3.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let ncol = ((p.n_b + {{SC4}}u - 1u) / {{SC4}}u) * 4u;  // invocations across the columns
  let a0 = (idx / ncol) * p.rows;
  if (a0 >= p.n_a) { return; }
  let ci = idx % ncol;
  let c = (ci / 4u) * {{SC4}}u + ci % 4u;
  let last_b = p.n_b - 1u;
  {{RC_DECL}}
  {{RV_DECL}}
  let a1 = min(a0 + p.rows, p.n_a);
  for (var a = a0; a < a1; a++) {
    let lo = a * p.la;
    {{ROW_BODY}}
    let o = a * p.n_b + c;
    {{ROW_STORE}}
  }
}
#else
// Each invocation owns a TA x TB tile ({{TA}} x {{TB}}): rows a0 + 4g + i of L, columns b0 + 4h .. b0 + 4h + 3 of
// Rr, in registers acc{g}_{h}_{i} unrolled by lora.gen.ts (indexed private arrays spill on SwiftShader).
@compute @workgroup_size({{WG}})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
#if SPLIT
  let S = p.split;
#else
  let S = 1u;
#endif
  let tile = (wid.x + wid.y * nwg.x) * (WG / S) + lid / S;
  let slice = lid % S;
  let ntb = (p.n_b + {{TB}}u - 1u) / {{TB}}u;
  let a0 = (tile / ntb) * {{TA}}u;
  let b0 = (tile % ntb) * {{TB}}u;
  // Rows and columns past the edge read the last valid one, so the hot loop has no bounds checks;
  // their results are never written.
  let last_a = p.n_a - 1u;
  let last_b = p.n_b - 1u;
  {{IDX_DECL}}
  {{ACC_DECL}}
  if (a0 < p.n_a) {
    for (var t = slice; t < p.n_t; t += S) {
      {{LOOP_BODY}}
    }
  }
#if SPLIT
  {{PART_STORE}}
  workgroupBarrier();
  if (slice != 0u) { return; }
  for (var s = 1u; s < S; s++) {
    let q = (lid + s) * {{NACC}}u;
    {{PART_SUM}}
  }
#endif
  if (a0 >= p.n_a) { return; }
  {{STORE}}
}
#endif

fn store_row(a: u32, b0: u32, acc: vec4<f32>) {
  if (a >= p.n_a || b0 >= p.n_b) { return; }
  let v = acc * p.scale;
  let o = a * p.n_b + b0;
  store(o, v.x);
  if (b0 + 3u < p.n_b) {
    store(o + 1u, v.y);
    store(o + 2u, v.z);
    store(o + 3u, v.w);
    return;
  }
  if (b0 + 1u < p.n_b) { store(o + 1u, v.y); }
  if (b0 + 2u < p.n_b) { store(o + 2u, v.z); }
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
