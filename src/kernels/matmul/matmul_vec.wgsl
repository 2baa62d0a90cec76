// Matrix-vector forward for decoding (M <= 8 rows, one token per sequence), for CPU rasterizers: no workgroup
// memory, no barriers. It is the register variant's forward with M x 4 tiles instead of 8 x 4: each invocation
// owns 4 output columns (weight rows) and all M rows of X, so each weight is loaded and dequantized once per M
// rows, and no clamped row repeats the work (the 8-row tile at M = 1 does 8x the loads it needs). Rows are a
// compile-time count (R2 .. R8 enable rows 1..7) so every accumulator is a register. Sums run in the register
// variant's order (a vec4·mat4 per 4 weights, a quantized block summed from its integer quants and scaled once),
// so a row's result is bit-identical to the register variant's on SwiftShader, whichever M it is decoded with.
// Measured (SwiftShader, 4864x896, CPU time): q4_0 M=1 ~28 ms vs ~110 ms for the register tile, M=4 ~65 vs ~110;
// f16 M=1 ~27 vs ~95, M=4 ~40 vs ~95; at M=8 it is the register tile (both ~100 ms). One invocation per column
// (a dot product per 4 weights) was slower: ~37 ms at M=1, no better than the register tile at M=4 (fewer FMAs
// per gathered load).
//   forward: Y (M, N) = X (M, K) · Wᵀ  (+ bias) (+ Y)
// One dispatch per weight part: the part holds rows [n0, n0 + Np) of W.
// Repeated on purpose: the per-row accumulators (s0..s7 under #if R2..R8) are unrolled by hand into named scalars, as in matmul.wgsl (indexed private arrays become stack traffic on SwiftShader: see ../unroll.ts); WGSL has no include for the lines it shares with matmul.wgsl.

struct Params {
  M: u32,
  Np: u32,     // rows of this part
  K: u32,
  n0: u32,     // first row of this part within W
  ldy: u32,    // N of the whole weight: the row stride of Y
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;  // (M, ldy) f32
@group(0) @binding(2) var<storage, read> x: array<f32>;        // (M, K) f32
@group(0) @binding(3) var<storage, read> w: array<u32>;        // (Np, K) packed weight part
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;     // (ldy) f32
#endif

fn x4(o: u32) -> vec4<f32> {
  return vec4<f32>(x[o], x[o + 1u], x[o + 2u], x[o + 3u]);
}


@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  let nb0 = t * 4u;
  if (nb0 >= p.Np) { return; }
  let K = p.K;
  // Columns past the part's edge are clamped onto its last one: their loads stay in bounds, results are dropped.
  let wr = min(vec4<u32>(nb0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.Np - 1u));
  let xo0 = 0u;
  let xo1 = K;
  let xo2 = 2u * K;
  let xo3 = 3u * K;
  let xo4 = 4u * K;
  let xo5 = 5u * K;
  let xo6 = 6u * K;
  let xo7 = 7u * K;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#if W_QUANT
  let nblk = K >> 5u;
  for (var b = 0u; b < nblk; b++) {
    let kb = b * 32u;
    let bl = blocks((wr * nblk + b) * BLOCK_BYTES);
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    var s4 = vec4<f32>(0.0);
    var s5 = vec4<f32>(0.0);
    var s6 = vec4<f32>(0.0);
    var s7 = vec4<f32>(0.0);
    var prev = bl.first;
    for (var j = 0u; j < BLOCK_WORDS; j++) {
      let bw = block_words(bl, prev, j);
      let q = bw.q;
      prev = bw.raw;
      let k = kb + j * 4u;
#if W_Q8_0
      let wm = mat4x4<f32>(i8x4(q.x), i8x4(q.y), i8x4(q.z), i8x4(q.w));
      s0 += x4(xo0 + k) * wm;
#if R2
      s1 += x4(xo1 + k) * wm;
#endif
#if R3
      s2 += x4(xo2 + k) * wm;
#endif
#if R4
      s3 += x4(xo3 + k) * wm;
#endif
#if R5
      s4 += x4(xo4 + k) * wm;
#endif
#if R6
      s5 += x4(xo5 + k) * wm;
#endif
#if R7
      s6 += x4(xo6 + k) * wm;
#endif
#if R8
      s7 += x4(xo7 + k) * wm;
#endif
#else
      let lo = mat4x4<f32>(nib_lo(q.x), nib_lo(q.y), nib_lo(q.z), nib_lo(q.w));
      let hi = mat4x4<f32>(nib_hi(q.x), nib_hi(q.y), nib_hi(q.z), nib_hi(q.w));
      s0 += x4(xo0 + k) * lo + x4(xo0 + k + 16u) * hi;
#if R2
      s1 += x4(xo1 + k) * lo + x4(xo1 + k + 16u) * hi;
#endif
#if R3
      s2 += x4(xo2 + k) * lo + x4(xo2 + k + 16u) * hi;
#endif
#if R4
      s3 += x4(xo3 + k) * lo + x4(xo3 + k + 16u) * hi;
#endif
#if R5
      s4 += x4(xo4 + k) * lo + x4(xo4 + k + 16u) * hi;
#endif
#if R6
      s5 += x4(xo5 + k) * lo + x4(xo5 + k + 16u) * hi;
#endif
#if R7
      s6 += x4(xo6 + k) * lo + x4(xo6 + k + 16u) * hi;
#endif
#if R8
      s7 += x4(xo7 + k) * lo + x4(xo7 + k + 16u) * hi;
#endif
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
    acc0 += x4(xo0 + k) * wm;
#if R2
    acc1 += x4(xo1 + k) * wm;
#endif
#if R3
    acc2 += x4(xo2 + k) * wm;
#endif
#if R4
    acc3 += x4(xo3 + k) * wm;
#endif
#if R5
    acc4 += x4(xo4 + k) * wm;
#endif
#if R6
    acc5 += x4(xo5 + k) * wm;
#endif
#if R7
    acc6 += x4(xo6 + k) * wm;
#endif
#if R8
    acc7 += x4(xo7 + k) * wm;
#endif
  }
  // K % 4 tail (f32 with any K, f16 with K = 2 mod 4).
  for (; k < K; k++) {
    let wv = vec4<f32>(w_get(wr.x, k, K), w_get(wr.y, k, K), w_get(wr.z, k, K), w_get(wr.w, k, K));
    acc0 += x[xo0 + k] * wv;
#if R2
    acc1 += x[xo1 + k] * wv;
#endif
#if R3
    acc2 += x[xo2 + k] * wv;
#endif
#if R4
    acc3 += x[xo3 + k] * wv;
#endif
#if R5
    acc4 += x[xo4 + k] * wv;
#endif
#if R6
    acc5 += x[xo5 + k] * wv;
#endif
#if R7
    acc6 += x[xo6 + k] * wv;
#endif
#if R8
    acc7 += x[xo7 + k] * wv;
#endif
  }
#endif
  let nv = p.Np - nb0;  // valid columns in this tile (may exceed 4)
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  for (var i = 0u; i < p.M; i++) {
    let o = i * p.ldy + p.n0 + nb0;
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
}
