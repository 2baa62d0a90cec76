// Workgroup-memory tiled matmul for real GPUs: a 16x16 workgroup computes a 64x64 output tile, each invocation a
// strided 4x4 of it (rows ty + 16i, columns tx + 16j, so that shared reads are conflict-free broadcasts).
// The reduction runs in chunks of 8: half the invocations load an X (dY) quad, the other half dequantize a weight
// quad (loaders of quant/weights.wgsl, joined in front), each weight element once per workgroup.
// Dequantized weights are `hf` (quant/weights.wgsl's *_h loaders): f16 where the device has shader-f16 and the weight
// is stored in 16 bits or fewer (matmul.ts: halfWeights), else f32. The generator prepends `enable f16; alias hf = f16;`
// or `alias hf = f32;`; nothing else in the text changes, so the f32 instantiation tested on SwiftShader (which has
// no shader-f16) is the f16 kernel's own code. Products and sums stay f32: each weight is widened as it is read.
// Chunks of 8 keep workgroup memory at 4 KiB: SwiftShader's pipeline compile time grows with it (~1.5 s per 8 KiB),
// and this variant is tested there.
//   forward:        Y (M, N) = X (M, K) · Wᵀ  (+ bias) (+ Y)     workgroups (ceil(Np/64), ceil(M/64))
//   backward-input: dX (M, K) = dY (M, N) · W  (+ dX)            workgroups (ceil(K/64), ceil(M/64))
// One dispatch per weight part: the part holds rows [n0, n0 + Np) of W.
// Repeated on purpose: the forward's (X) and the backward's (dY) tile loads are written out per #if pass, each a straight line of four stores to shared memory, so each pass reads top to bottom.

struct Params {
  M: u32,
  Np: u32,
  K: u32,
  n0: u32,
  ldy: u32,
  tiles: u32,  // unused here; shared with the register variant's layout
}
@group(0) @binding(0) var<uniform> p: Params;

#if FORWARD
@group(0) @binding(1) var<storage, read_write> y: array<f32>;  // (M, ldy) f32
@group(0) @binding(2) var<storage, read> x: array<f32>;        // (M, K) f32
#else
@group(0) @binding(1) var<storage, read_write> dx: array<f32>; // (M, K) f32
@group(0) @binding(2) var<storage, read> dy: array<f32>;       // (M, ldy) f32
#endif
@group(0) @binding(3) var<storage, read> w: array<u32>;        // (Np, K) packed weight part
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;     // (ldy) f32
#endif

// [r * 64 + c]: r runs along the reduction (8), c along the tile (64).
var<workgroup> As: array<f32, 512>;
var<workgroup> Bs: array<hf, 512>;

// Straight-line code throughout (no loops over vector lanes, no dynamic vector indexing): SwiftShader, where this
// variant is tested, compiles such loops very slowly.
fn wget0(n: u32, k: u32) -> hf {
  if (k < p.K) { return w_get_h(n, k, p.K); }
  return hf(0.0);
}

// Four consecutive weight elements of row n from column k, zero past the edges.
fn wquad(n: u32, k: u32) -> vec4<hf> {
  let K = p.K;
  if (n >= p.Np) { return vec4<hf>(0.0); }
  if (k + 4u <= K) { return w_load4_h(n, k, K); }
  return vec4<hf>(wget0(n, k), wget0(n, k + 1u), wget0(n, k + 2u), wget0(n, k + 3u));
}

#if FORWARD
fn xget0(m: u32, k: u32) -> f32 {
  if (m < p.M && k < p.K) { return x[m * p.K + k]; }
  return 0.0;
}

// Invocations 0..127 load a quad of X, 128..255 a quad of W: row idx / 2, reduction quad idx % 2. Transposed
// into the tiles so that the reduction index is the slow one.
fn load_quad(l: u32, m0: u32, c0: u32, r0: u32) {
  let idx = l & 127u;
  let row = idx / 2u;
  let kq = (idx % 2u) * 4u;
  let k = r0 + kq;
  if (l < 128u) {
    let m = m0 + row;
    As[kq * 64u + row] = xget0(m, k);
    As[(kq + 1u) * 64u + row] = xget0(m, k + 1u);
    As[(kq + 2u) * 64u + row] = xget0(m, k + 2u);
    As[(kq + 3u) * 64u + row] = xget0(m, k + 3u);
  } else {
    let wv = wquad(c0 + row, k);
    Bs[kq * 64u + row] = wv.x;
    Bs[(kq + 1u) * 64u + row] = wv.y;
    Bs[(kq + 2u) * 64u + row] = wv.z;
    Bs[(kq + 3u) * 64u + row] = wv.w;
  }
}

fn put(m: u32, c: u32, acc: f32) {
  if (m >= p.M || c >= p.Np) { return; }
  let o = m * p.ldy + p.n0 + c;
  var v = acc;
#if HAS_BIAS
  v += bias[p.n0 + c];
#endif
#if ACCUM
  v += y[o];
#endif
  y[o] = v;
}
#else
fn dyget0(m: u32, n: u32) -> f32 {
  if (m < p.M && n < p.Np) { return dy[m * p.ldy + p.n0 + n]; }
  return 0.0;
}

// Invocations 0..127 load a quad of dY (row m = idx / 2, reduction quad idx % 2), 128..255 a quad of W
// (reduction row idx / 16, column quad idx % 16).
fn load_quad(l: u32, m0: u32, c0: u32, r0: u32) {
  let idx = l & 127u;
  if (l < 128u) {
    let row = idx / 2u;
    let nq = (idx % 2u) * 4u;
    let m = m0 + row;
    let n = r0 + nq;
    As[nq * 64u + row] = dyget0(m, n);
    As[(nq + 1u) * 64u + row] = dyget0(m, n + 1u);
    As[(nq + 2u) * 64u + row] = dyget0(m, n + 2u);
    As[(nq + 3u) * 64u + row] = dyget0(m, n + 3u);
  } else {
    let rr = idx / 16u;
    let kq = (idx % 16u) * 4u;
    let wv = wquad(r0 + rr, c0 + kq);
    Bs[rr * 64u + kq] = wv.x;
    Bs[rr * 64u + kq + 1u] = wv.y;
    Bs[rr * 64u + kq + 2u] = wv.z;
    Bs[rr * 64u + kq + 3u] = wv.w;
  }
}

fn put(m: u32, c: u32, acc: f32) {
  if (m >= p.M || c >= p.K) { return; }
  let o = m * p.K + c;
#if ACCUM
  dx[o] = acc + dx[o];
#else
  dx[o] = acc;
#endif
}
#endif

fn put_row(m: u32, c: u32, acc: vec4<f32>) {
  put(m, c, acc.x);
  put(m, c + 16u, acc.y);
  put(m, c + 32u, acc.z);
  put(m, c + 48u, acc.w);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let tx = lid.x;
  let ty = lid.y;
  let m0 = wg.y * 64u;
  let c0 = wg.x * 64u;  // first output column: n (forward) or k (backward)
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
#if FORWARD
  let R = p.K;
#else
  let R = p.Np;
#endif
  for (var r0 = 0u; r0 < R; r0 += 8u) {
    load_quad(l, m0, c0, r0);
    workgroupBarrier();
    for (var r = 0u; r < 8u; r++) {
      let a = vec4<f32>(As[r * 64u + ty], As[r * 64u + ty + 16u], As[r * 64u + ty + 32u], As[r * 64u + ty + 48u]);
      let b = vec4<f32>(vec4<hf>(Bs[r * 64u + tx], Bs[r * 64u + tx + 16u], Bs[r * 64u + tx + 32u], Bs[r * 64u + tx + 48u]));
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }
  put_row(m0 + ty, c0 + tx, acc0);
  put_row(m0 + ty + 16u, c0 + tx, acc1);
  put_row(m0 + ty + 32u, c0 + tx, acc2);
  put_row(m0 + ty + 48u, c0 + tx, acc3);
}
