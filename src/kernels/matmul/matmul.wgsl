// Register-tiled matmul for CPU rasterizers (SwiftShader): no workgroup memory, no barriers. Each invocation owns
// an 8x8 output tile (forward: 8 rows of X, 8 weight rows; backward: 8 rows of dY, 8 columns of dX) and reads its
// operands straight from storage; there every lane's load is a scalar gather, so the tile is sized for loads per
// FMA: 8x8 needs 0.25 scalar loads per FMA where 8x4 needed 0.375 (measured at 64 rows with the Node wait loop
// throttled, src/gpu/wait.ts: the 8x8 forward ~1.5x the 8x4 for f32; at 16 rows under a busy-polling main thread
// the 8x8 forward had measured slower, which is why it was 8x4 before).
// Weights are dequantized in registers by the loaders of quant/weights.wgsl (joined in front).
//   forward:        Y (M, N) = X (M, K) · Wᵀ  (+ bias) (+ Y)
//   backward-input: dX (M, K) = dY (M, N) · W  (+ dX)
// One dispatch per weight part: the part holds rows [n0, n0 + Np) of W.
// Repeated on purpose: the accumulators (acc0..7, bcc0..7, ...) and the full and ragged K tiles are unrolled by hand into named scalars (indexed private arrays become stack traffic on SwiftShader, measured: see ../unroll.ts); the Params preamble matches matmul_shared.wgsl's because the host fills one layout and WGSL has no include.

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
  // acc_i[j] = Y[m0 + i, nb0 + j], bcc_i[j] = Y[m0 + i, nb0 + 4 + j], i < 8: each x load feeds 8 weight rows
  // and each dequantized weight 8 rows of X.
  let nb0 = (t % p.tiles) * 8u;
  let wr = min(vec4<u32>(nb0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.Np - 1u));
  let wr2 = min(vec4<u32>(nb0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(p.Np - 1u));
  let xr = mr * K;
  let ms = min(vec4<u32>(m0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(p.M - 1u));
  let xs = ms * K;
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  var bcc0 = vec4<f32>(0.0);
  var bcc1 = vec4<f32>(0.0);
  var bcc2 = vec4<f32>(0.0);
  var bcc3 = vec4<f32>(0.0);
  var bcc4 = vec4<f32>(0.0);
  var bcc5 = vec4<f32>(0.0);
  var bcc6 = vec4<f32>(0.0);
  var bcc7 = vec4<f32>(0.0);
#if W_QUANT
  let nblk = K >> 5u;
  for (var b = 0u; b < nblk; b++) {
    let kb = b * 32u;
    let bl = blocks((wr * nblk + b) * BLOCK_BYTES);
    let bl2 = blocks((wr2 * nblk + b) * BLOCK_BYTES);
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    var s4 = vec4<f32>(0.0);
    var s5 = vec4<f32>(0.0);
    var s6 = vec4<f32>(0.0);
    var s7 = vec4<f32>(0.0);
    var u0 = vec4<f32>(0.0);
    var u1 = vec4<f32>(0.0);
    var u2 = vec4<f32>(0.0);
    var u3 = vec4<f32>(0.0);
    var u4 = vec4<f32>(0.0);
    var u5 = vec4<f32>(0.0);
    var u6 = vec4<f32>(0.0);
    var u7 = vec4<f32>(0.0);
    var prev = bl.first;
    var prev2 = bl2.first;
    for (var j = 0u; j < BLOCK_WORDS; j++) {
      let bw = block_words(bl, prev, j);
      let q = bw.q;
      prev = bw.raw;
      let bw2 = block_words(bl2, prev2, j);
      let q2 = bw2.q;
      prev2 = bw2.raw;
      let k = kb + j * 4u;
#if W_Q8_0
      let wm = mat4x4<f32>(i8x4(q.x), i8x4(q.y), i8x4(q.z), i8x4(q.w));
      let wm2 = mat4x4<f32>(i8x4(q2.x), i8x4(q2.y), i8x4(q2.z), i8x4(q2.w));
      { let xa = x4(xr.x + k); s0 += xa * wm; u0 += xa * wm2; }
      { let xa = x4(xr.y + k); s1 += xa * wm; u1 += xa * wm2; }
      { let xa = x4(xr.z + k); s2 += xa * wm; u2 += xa * wm2; }
      { let xa = x4(xr.w + k); s3 += xa * wm; u3 += xa * wm2; }
      { let xa = x4(xs.x + k); s4 += xa * wm; u4 += xa * wm2; }
      { let xa = x4(xs.y + k); s5 += xa * wm; u5 += xa * wm2; }
      { let xa = x4(xs.z + k); s6 += xa * wm; u6 += xa * wm2; }
      { let xa = x4(xs.w + k); s7 += xa * wm; u7 += xa * wm2; }
#else
      let lo = mat4x4<f32>(nib_lo(q.x), nib_lo(q.y), nib_lo(q.z), nib_lo(q.w));
      let hi = mat4x4<f32>(nib_hi(q.x), nib_hi(q.y), nib_hi(q.z), nib_hi(q.w));
      let lo2 = mat4x4<f32>(nib_lo(q2.x), nib_lo(q2.y), nib_lo(q2.z), nib_lo(q2.w));
      let hi2 = mat4x4<f32>(nib_hi(q2.x), nib_hi(q2.y), nib_hi(q2.z), nib_hi(q2.w));
      { let xa = x4(xr.x + k); let xb = x4(xr.x + k + 16u); s0 += xa * lo + xb * hi; u0 += xa * lo2 + xb * hi2; }
      { let xa = x4(xr.y + k); let xb = x4(xr.y + k + 16u); s1 += xa * lo + xb * hi; u1 += xa * lo2 + xb * hi2; }
      { let xa = x4(xr.z + k); let xb = x4(xr.z + k + 16u); s2 += xa * lo + xb * hi; u2 += xa * lo2 + xb * hi2; }
      { let xa = x4(xr.w + k); let xb = x4(xr.w + k + 16u); s3 += xa * lo + xb * hi; u3 += xa * lo2 + xb * hi2; }
      { let xa = x4(xs.x + k); let xb = x4(xs.x + k + 16u); s4 += xa * lo + xb * hi; u4 += xa * lo2 + xb * hi2; }
      { let xa = x4(xs.y + k); let xb = x4(xs.y + k + 16u); s5 += xa * lo + xb * hi; u5 += xa * lo2 + xb * hi2; }
      { let xa = x4(xs.z + k); let xb = x4(xs.z + k + 16u); s6 += xa * lo + xb * hi; u6 += xa * lo2 + xb * hi2; }
      { let xa = x4(xs.w + k); let xb = x4(xs.w + k + 16u); s7 += xa * lo + xb * hi; u7 += xa * lo2 + xb * hi2; }
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
    bcc0 += u0 * bl2.d;
    bcc1 += u1 * bl2.d;
    bcc2 += u2 * bl2.d;
    bcc3 += u3 * bl2.d;
    bcc4 += u4 * bl2.d;
    bcc5 += u5 * bl2.d;
    bcc6 += u6 * bl2.d;
    bcc7 += u7 * bl2.d;
  }
#else
  var k = 0u;
  for (; k + 4u <= K; k += 4u) {
    let wm = mat4x4<f32>(w_load4(wr.x, k, K), w_load4(wr.y, k, K), w_load4(wr.z, k, K), w_load4(wr.w, k, K));
    let wm2 = mat4x4<f32>(w_load4(wr2.x, k, K), w_load4(wr2.y, k, K), w_load4(wr2.z, k, K), w_load4(wr2.w, k, K));
    { let xa = x4(xr.x + k); acc0 += xa * wm; bcc0 += xa * wm2; }
    { let xa = x4(xr.y + k); acc1 += xa * wm; bcc1 += xa * wm2; }
    { let xa = x4(xr.z + k); acc2 += xa * wm; bcc2 += xa * wm2; }
    { let xa = x4(xr.w + k); acc3 += xa * wm; bcc3 += xa * wm2; }
    { let xa = x4(xs.x + k); acc4 += xa * wm; bcc4 += xa * wm2; }
    { let xa = x4(xs.y + k); acc5 += xa * wm; bcc5 += xa * wm2; }
    { let xa = x4(xs.z + k); acc6 += xa * wm; bcc6 += xa * wm2; }
    { let xa = x4(xs.w + k); acc7 += xa * wm; bcc7 += xa * wm2; }
  }
  // K % 4 tail (f32 with any K, f16 with K = 2 mod 4).
  for (; k < K; k++) {
    let wv = vec4<f32>(w_get(wr.x, k, K), w_get(wr.y, k, K), w_get(wr.z, k, K), w_get(wr.w, k, K));
    let wv2 = vec4<f32>(w_get(wr2.x, k, K), w_get(wr2.y, k, K), w_get(wr2.z, k, K), w_get(wr2.w, k, K));
    { let xv = x[xr.x + k]; acc0 += xv * wv; bcc0 += xv * wv2; }
    { let xv = x[xr.y + k]; acc1 += xv * wv; bcc1 += xv * wv2; }
    { let xv = x[xr.z + k]; acc2 += xv * wv; bcc2 += xv * wv2; }
    { let xv = x[xr.w + k]; acc3 += xv * wv; bcc3 += xv * wv2; }
    { let xv = x[xs.x + k]; acc4 += xv * wv; bcc4 += xv * wv2; }
    { let xv = x[xs.y + k]; acc5 += xv * wv; bcc5 += xv * wv2; }
    { let xv = x[xs.z + k]; acc6 += xv * wv; bcc6 += xv * wv2; }
    { let xv = x[xs.w + k]; acc7 += xv * wv; bcc7 += xv * wv2; }
  }
#endif
  let nv = p.Np - nb0;  // valid columns in this tile (may exceed 8)
  var accs = array<vec4<f32>, 16>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7, bcc0, bcc1, bcc2, bcc3, bcc4, bcc5, bcc6, bcc7);
  for (var i = 0u; i < 8u; i++) {
    if (m0 + i >= p.M) { break; }
    let o = (m0 + i) * p.ldy + p.n0 + nb0;
    for (var j = 0u; j < 8u; j++) {
      if (j >= nv) { break; }
      var v = accs[i + (j / 4u) * 8u][j % 4u];
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
  // Two loops with the same body, not one loop that picks its loads per step: a branch inside the loop measured
  // 4-5x slower for q8_0/q4_0 on SwiftShader (1116 vs ~190 ms at 64x4864x896).
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
