// Register-tiled matmul for CPU rasterizers (SwiftShader): no workgroup memory, no barriers. Each invocation owns
// an 8x4 (forward: 8 rows of X, 4 weight rows) or 8x8 (backward: 8 rows of dY, 8 columns of dX) output tile and
// reads its operands straight from storage; there every lane's load is a scalar gather, so tiles are sized for
// the FMA-per-load ratio without spilling too much (measured: forward 8x4 ~ 4x4 for f32/f16 and ~20% faster for
// q8_0/q4_0, whose per-weight dequantization is shared by 8 rows; 4x8 and 8x8 forward were slower). The backward's
// tile is 8 rows x 8 columns.
// Weights are dequantized in registers by the loaders of quant/weights.wgsl (joined in front).
//   forward:        Y (M, N) = X (M, K) · Wᵀ  (+ bias) (+ Y)
//   backward-input: dX (M, K) = dY (M, N) · W  (+ dX)
// One dispatch per weight part: the part holds rows [n0, n0 + Np) of W.

struct Params {
  M: u32,
  Np: u32,     // rows of this part
  K: u32,
  n0: u32,     // first row of this part within W
  ldy: u32,    // N of the whole weight: the row stride of Y / dY
  tiles: u32,  // tiles along the fast output dimension (N for forward, K for backward)
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

#if FORWARD
fn x4(o: u32) -> vec4<f32> {
  return vec4<f32>(x[o], x[o + 1u], x[o + 2u], x[o + 3u]);
}
#endif

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  let K = p.K;
  let tm = t / p.tiles;
  let m0 = tm * 8u;
  if (m0 >= p.M) { return; }
  // Rows past the edge are clamped onto the last one: their loads stay in bounds, their results are dropped.
  let mr = min(vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.M - 1u));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

#if FORWARD
  // acc_i[j] = Y[m0 + i, nb0 + j], i < 8
  let nb0 = (t % p.tiles) * 4u;
  let wr = min(vec4<u32>(nb0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.Np - 1u));
  let xr = mr * K;
  let ms = min(vec4<u32>(m0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(p.M - 1u));
  let xs = ms * K;
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#if W_QUANT
  let nblk = K >> 5u;
  for (var b = 0u; b < nblk; b++) {
    let kb = b * 32u;
#if W_Q8_0
    let bl = blocks((wr * nblk + b) * 34u);
#else
    let bl = blocks((wr * nblk + b) * 18u);
#endif
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    var s4 = vec4<f32>(0.0);
    var s5 = vec4<f32>(0.0);
    var s6 = vec4<f32>(0.0);
    var s7 = vec4<f32>(0.0);
    var prev = bl.first;
#if W_Q8_0
    for (var j = 0u; j < 8u; j++) {
#else
    for (var j = 0u; j < 4u; j++) {
#endif
      let i = bl.i0 + vec4<u32>(j + 1u);
      let nw = vec4<u32>(w[i.x], w[i.y], w[i.z], w[i.w]);
      let q = select((prev >> vec4<u32>(16u)) | (nw << vec4<u32>(16u)), nw, bl.a);
      prev = nw;
      let k = kb + j * 4u;
#if W_Q8_0
      let wm = mat4x4<f32>(i8x4(q.x), i8x4(q.y), i8x4(q.z), i8x4(q.w));
      s0 += x4(xr.x + k) * wm;
      s1 += x4(xr.y + k) * wm;
      s2 += x4(xr.z + k) * wm;
      s3 += x4(xr.w + k) * wm;
      s4 += x4(xs.x + k) * wm;
      s5 += x4(xs.y + k) * wm;
      s6 += x4(xs.z + k) * wm;
      s7 += x4(xs.w + k) * wm;
#else
      let lo = mat4x4<f32>(nib_lo(q.x), nib_lo(q.y), nib_lo(q.z), nib_lo(q.w));
      let hi = mat4x4<f32>(nib_hi(q.x), nib_hi(q.y), nib_hi(q.z), nib_hi(q.w));
      s0 += x4(xr.x + k) * lo + x4(xr.x + k + 16u) * hi;
      s1 += x4(xr.y + k) * lo + x4(xr.y + k + 16u) * hi;
      s2 += x4(xr.z + k) * lo + x4(xr.z + k + 16u) * hi;
      s3 += x4(xr.w + k) * lo + x4(xr.w + k + 16u) * hi;
      s4 += x4(xs.x + k) * lo + x4(xs.x + k + 16u) * hi;
      s5 += x4(xs.y + k) * lo + x4(xs.y + k + 16u) * hi;
      s6 += x4(xs.z + k) * lo + x4(xs.z + k + 16u) * hi;
      s7 += x4(xs.w + k) * lo + x4(xs.w + k + 16u) * hi;
#endif
    }
    acc0 += s0 * bl.d;
    acc1 += s1 * bl.d;
    acc2 += s2 * bl.d;
    acc3 += s3 * bl.d;
    acc4 += s4 * bl.d;
    acc5 += s5 * bl.d;
    acc6 += s6 * bl.d;
    acc7 += s7 * bl.d;
  }
#else
  var k = 0u;
  for (; k + 4u <= K; k += 4u) {
    let wm = mat4x4<f32>(w_load4(wr.x, k, K), w_load4(wr.y, k, K), w_load4(wr.z, k, K), w_load4(wr.w, k, K));
    acc0 += x4(xr.x + k) * wm;
    acc1 += x4(xr.y + k) * wm;
    acc2 += x4(xr.z + k) * wm;
    acc3 += x4(xr.w + k) * wm;
    acc4 += x4(xs.x + k) * wm;
    acc5 += x4(xs.y + k) * wm;
    acc6 += x4(xs.z + k) * wm;
    acc7 += x4(xs.w + k) * wm;
  }
  // K % 4 tail (f32 with any K, f16 with K = 2 mod 4).
  for (; k < K; k++) {
    let wv = vec4<f32>(w_get(wr.x, k, K), w_get(wr.y, k, K), w_get(wr.z, k, K), w_get(wr.w, k, K));
    acc0 += x[xr.x + k] * wv;
    acc1 += x[xr.y + k] * wv;
    acc2 += x[xr.z + k] * wv;
    acc3 += x[xr.w + k] * wv;
    acc4 += x[xs.x + k] * wv;
    acc5 += x[xs.y + k] * wv;
    acc6 += x[xs.z + k] * wv;
    acc7 += x[xs.w + k] * wv;
  }
#endif
  let nv = p.Np - nb0;  // valid columns in this tile (may exceed 4)
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  for (var i = 0u; i < 8u; i++) {
    if (m0 + i >= p.M) { break; }
    let o = (m0 + i) * p.ldy + p.n0 + nb0;
    for (var j = 0u; j < 4u; j++) {
      if (j >= nv) { break; }
      var v = accs[i][j];
#if HAS_BIAS
      v += bias[p.n0 + nb0 + j];
#endif
#if ACCUM
      v += y[o + j];
#endif
      y[o + j] = v;
    }
  }
#else
  // Backward tiles are 8 rows x 8 columns: each dY value loaded feeds 8 FMAs, and each 8 weights loaded (a
  // quantized row's scale and three words) feed 8 rows (measured on SwiftShader at 64 rows: q4_0/q8_0 ~1.2x over
  // 4 x 8 tiles).
  // acc_i = dX[m0 + i, k0 .. k0 + 3], bcc_i = dX[m0 + i, k0 + 4 .. k0 + 7]; rows 4..7 in cc_i / ec_i.
  var bcc0 = vec4<f32>(0.0);
  var bcc1 = vec4<f32>(0.0);
  var bcc2 = vec4<f32>(0.0);
  var bcc3 = vec4<f32>(0.0);
  var cc0 = vec4<f32>(0.0);
  var cc1 = vec4<f32>(0.0);
  var cc2 = vec4<f32>(0.0);
  var cc3 = vec4<f32>(0.0);
  var ec0 = vec4<f32>(0.0);
  var ec1 = vec4<f32>(0.0);
  var ec2 = vec4<f32>(0.0);
  var ec3 = vec4<f32>(0.0);
  let k0 = (t % p.tiles) * 8u;
  let dr = mr * p.ldy + vec4<u32>(p.n0);
  let ms = min(vec4<u32>(m0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(p.M - 1u));
  let ds = ms * p.ldy + vec4<u32>(p.n0);
  if (k0 + 8u <= K) {
    for (var n = 0u; n < p.Np; n++) {
      let w8 = w_load8(n, k0, K);
      let wa = w8.a;
      let wb = w8.b;
      let g = vec4<f32>(dy[dr.x + n], dy[dr.y + n], dy[dr.z + n], dy[dr.w + n]);
      let e = vec4<f32>(dy[ds.x + n], dy[ds.y + n], dy[ds.z + n], dy[ds.w + n]);
      acc0 += g.x * wa;
      acc1 += g.y * wa;
      acc2 += g.z * wa;
      acc3 += g.w * wa;
      bcc0 += g.x * wb;
      bcc1 += g.y * wb;
      bcc2 += g.z * wb;
      bcc3 += g.w * wb;
      cc0 += e.x * wa;
      cc1 += e.y * wa;
      cc2 += e.z * wa;
      cc3 += e.w * wa;
      ec0 += e.x * wb;
      ec1 += e.y * wb;
      ec2 += e.z * wb;
      ec3 += e.w * wb;
    }
  } else {
    // The ragged last tile of an f32/f16 row: clamped columns, dropped on store.
    let ka = min(vec4<u32>(k0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(K - 1u));
    let kb = min(vec4<u32>(k0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(K - 1u));
    for (var n = 0u; n < p.Np; n++) {
      let wa = vec4<f32>(w_get(n, ka.x, K), w_get(n, ka.y, K), w_get(n, ka.z, K), w_get(n, ka.w, K));
      let wb = vec4<f32>(w_get(n, kb.x, K), w_get(n, kb.y, K), w_get(n, kb.z, K), w_get(n, kb.w, K));
      let g = vec4<f32>(dy[dr.x + n], dy[dr.y + n], dy[dr.z + n], dy[dr.w + n]);
      let e = vec4<f32>(dy[ds.x + n], dy[ds.y + n], dy[ds.z + n], dy[ds.w + n]);
      acc0 += g.x * wa;
      acc1 += g.y * wa;
      acc2 += g.z * wa;
      acc3 += g.w * wa;
      bcc0 += g.x * wb;
      bcc1 += g.y * wb;
      bcc2 += g.z * wb;
      bcc3 += g.w * wb;
      cc0 += e.x * wa;
      cc1 += e.y * wa;
      cc2 += e.z * wa;
      cc3 += e.w * wa;
      ec0 += e.x * wb;
      ec1 += e.y * wb;
      ec2 += e.z * wb;
      ec3 += e.w * wb;
    }
  }
  let kv = K - k0;
  var accs = array<vec4<f32>, 16>(acc0, acc1, acc2, acc3, cc0, cc1, cc2, cc3, bcc0, bcc1, bcc2, bcc3, ec0, ec1, ec2, ec3);
  for (var i = 0u; i < 8u; i++) {
    if (m0 + i >= p.M) { break; }
    let o = (m0 + i) * K + k0;
    for (var j = 0u; j < 8u; j++) {
      if (j >= kv) { break; }
      let v = accs[i + (j / 4u) * 8u][j % 4u];
#if ACCUM
      dx[o + j] = v + dx[o + j];
#else
      dx[o + j] = v;
#endif
    }
  }
#endif
}
