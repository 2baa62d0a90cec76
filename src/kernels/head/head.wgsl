// Fused output head: logits = h[rows[s]] · Wᵀ for the S unmasked positions only, consumed in vocab chunks by an
// online log-sum-exp, so no (S, V) buffer exists. W (V, C) arrives one row part at a time (a WeightTensor part).
//   FWD_PART    grid (chunks of this part, ceil(S/SB)): partial (max, sumexp, logit-sum) per (s, chunk); the one
//               workgroup holding labels[s] writes that logit into logp[s].
//   FWD_COMBINE one thread per s folds all chunks of all parts in a fixed order: lse, logp -= lse, logit sum.
//   GRAD_PART   the training forward, in place of FWD_PART: grid (splits of this part, ceil(S/SB)). Over the
//               split's chunks, online softmax: the running max m per position, (max, sumexp, logit-sum) as
//               FWD_PART's, and Σ_v exp(logit_v − m) · W_v, a (C) vector per (split, s), its accumulators rescaled
//               by exp(m_old − m_new) when a chunk raises m. A thread accumulates groups of 8 consecutive columns
//               (one scale and three words per 8 quantized weights). The split holding labels[s] copies W[label]
//               into dir[s].
//   GRAD_COMBINE one thread per (s, 4 columns), after FWD_COMBINE: dir[s] = W[label] − Σ_splits exp(m_split −
//               lse) · partial = ∂logp[s]/∂h[rows[s]], in a fixed order.
//   BWD         one thread per (s, 4 columns): dh[rows[s]] = dlogp[s] · dir[s]. Every loss here depends on the
//               logits only through log p(label), so the backward is this: no second pass over the vocabulary
//               (training costs 4·S·V·C flops in the head, not 2 forward + 4 backward).
// Partials are combined in a fixed order by a second pass (no float atomics), so results are deterministic.
// Weight parts never straddle a chunk: chunks restart at each part's first row, and the chunk/split indices written
// to the partial buffers are global (base + local), which is how the running (max, sum) is carried across parts.

const WG = {{WG}}u;
const SB = {{SB}}u;    // sequence positions per workgroup: each dequantized weight value is reused SB times
const VPT = {{VPT}}u;  // vocab rows per thread in a chunk: 4 (one mat4x4 of weights per k step) or 8 (ROWS8: two)
const VCH = WG * VPT;  // vocab rows per chunk
const NT = SB * (VPT / 4u);  // vec4 tiles logits_tile returns: rows 4..7 of position i are tile SB + i
// Finite stand-in for -inf: exp(NEG - NEG) is 1, never NaN, and a (NEG, 0) partial is an exact identity.
const NEG = -3.0e38;

// The training forward's scratch holds the per-split stats (S, nTotal) vec4 first, then its (nTotal, S, C/4) sums
// from this vec4 index on: 256-byte aligned, so the log-softmax combine binds the stats alone (head.ts gradLayout).
fn e_base(S: u32, nTotal: u32) -> u32 {
  return (S * nTotal + 15u) / 16u * 16u;
}

#if PART
struct Params { S: u32, C: u32, vStart: u32, vEnd: u32, base: u32, nTotal: u32, nChunkPart: u32, nSplitPart: u32 }
@group(0) @binding(0) var<uniform> p: Params;

// Logits of SB positions (s0..s0+SB-1, clamped to S-1) against this thread's 4 vocab rows v0 + t + j·WG of the
// chunk (rows past vEnd are clamped; the caller masks them): component j of result i. Register tile, no barriers.
// The SB accumulators are unrolled by head.gen.ts (each {{…}} line is one generated block): SwiftShader's Subzero JIT keeps
// loops and private arrays as written, and indexed private arrays there are memory traffic.
// Quantized weights are walked a block at a time, as in matmul.wgsl's forward: the scale is read once per block
// and the quants as whole words (w_load4 reads the scale and two words per four weights: ~1.5x slower, measured).
fn logits_tile(s0: u32, v0: u32, t: u32) -> array<vec4<f32>, NT> {
  let C4 = p.C / 4u;
  {{HB_DECL}}
  let r0 = min(v0 + t, p.vEnd - 1u) - p.vStart;
  let r1 = min(v0 + t + WG, p.vEnd - 1u) - p.vStart;
  let r2 = min(v0 + t + 2u * WG, p.vEnd - 1u) - p.vStart;
  let r3 = min(v0 + t + 3u * WG, p.vEnd - 1u) - p.vStart;
#if ROWS8
  let r4 = min(v0 + t + 4u * WG, p.vEnd - 1u) - p.vStart;
  let r5 = min(v0 + t + 5u * WG, p.vEnd - 1u) - p.vStart;
  let r6 = min(v0 + t + 6u * WG, p.vEnd - 1u) - p.vStart;
  let r7 = min(v0 + t + 7u * WG, p.vEnd - 1u) - p.vStart;
  let bo2 = vec4<u32>(r4, r5, r6, r7) * (p.C >> 5u);
#endif
  {{ACC_DECL}}
#if W_QUANT
  let nblk = p.C >> 5u;
  let bo = vec4<u32>(r0, r1, r2, r3) * nblk;
  for (var b = 0u; b < nblk; b++) {
    let bl = blocks((bo + vec4<u32>(b)) * BLOCK_BYTES);
#if ROWS8
    let bl2 = blocks((bo2 + vec4<u32>(b)) * BLOCK_BYTES);
#endif
    let kb = b * 8u;  // the block's first vec4 of h
    {{SACC_DECL}}
    var prev = bl.first;
#if ROWS8
    var prev2 = bl2.first;
#endif
    for (var j = 0u; j < BLOCK_WORDS; j++) {
      let bw = block_words(bl, prev, j);
      let q = bw.q;
      prev = bw.raw;
#if ROWS8
      let bw2 = block_words(bl2, prev2, j);
      let q2 = bw2.q;
      prev2 = bw2.raw;
#endif
      let k4 = kb + j;
#if W_Q8_0
      let wm = mat4x4<f32>(i8x4(q.x), i8x4(q.y), i8x4(q.z), i8x4(q.w));
#if ROWS8
      let wm2 = mat4x4<f32>(i8x4(q2.x), i8x4(q2.y), i8x4(q2.z), i8x4(q2.w));
#endif
      {{SACC_Q8}}
#else
      let lo = mat4x4<f32>(nib_lo(q.x), nib_lo(q.y), nib_lo(q.z), nib_lo(q.w));
      let hi = mat4x4<f32>(nib_hi(q.x), nib_hi(q.y), nib_hi(q.z), nib_hi(q.w));
#if ROWS8
      let lo2 = mat4x4<f32>(nib_lo(q2.x), nib_lo(q2.y), nib_lo(q2.z), nib_lo(q2.w));
      let hi2 = mat4x4<f32>(nib_hi(q2.x), nib_hi(q2.y), nib_hi(q2.z), nib_hi(q2.w));
#endif
      {{SACC_Q4}}
#endif
    }
    {{SACC_FOLD}}
  }
#else
  for (var k4 = 0u; k4 < C4; k4++) {
    let k = k4 * 4u;
    // h · wm is the row vector of the four dot products.
    let wm = mat4x4<f32>(w_load4(r0, k, p.C), w_load4(r1, k, p.C), w_load4(r2, k, p.C), w_load4(r3, k, p.C));
#if ROWS8
    let wm2 = mat4x4<f32>(w_load4(r4, k, p.C), w_load4(r5, k, p.C), w_load4(r6, k, p.C), w_load4(r7, k, p.C));
#endif
    {{ACC_STEP}}
  }
#endif
  return array<vec4<f32>, NT>({{ACC_LIST}});
}

#if GRAD_PART
// Eight weights of a row from column k0 (k0 % 8 == 0), zeros past C (f32/f16 rows with C % 8 == 4).
fn w_load8c(row: u32, k0: u32, C: u32) -> W8 {
#if W_QUANT
  return w_load8(row, k0, C);
#else
  let b = select(vec4<f32>(0.0), w_load4(row, min(k0 + 4u, C - 4u), C), k0 + 4u < C);
  return W8(w_load4(row, k0, C), b);
#endif
}
#endif
#endif

#if FWD_PART
@group(0) @binding(1) var<storage, read_write> part: array<vec4<f32>>;  // (S, nTotal) (max, sumexp, logit-sum, 0)
@group(0) @binding(2) var<storage, read_write> logp: array<f32>;        // (S) f32: the label's logit, for now
@group(0) @binding(3) var<storage, read> h: array<vec4<f32>>;           // (M, C/4) f32
@group(0) @binding(4) var<storage, read> rows: array<u32>;              // (S) u32 row of h
@group(0) @binding(5) var<storage, read> labels: array<u32>;            // (S) u32 token id
@group(0) @binding(6) var<storage, read> w: array<u32>;                 // (vEnd - vStart, C) one part of W

var<workgroup> red: array<vec3<f32>, SB * WG>;  // per-thread (max, sumexp, logit-sum) for each of the SB positions

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let s0 = wid.y * SB;
  let v0 = p.vStart + wid.x * VCH;
  let acc = logits_tile(s0, v0, t);
  for (var i = 0u; i < SB; i++) {
    let s = s0 + i;
    let lab = labels[min(s, p.S - 1u)];
    var m = NEG;
    for (var j = 0u; j < VPT; j++) {
      if (v0 + t + j * WG < p.vEnd) {
        m = max(m, acc[i + (j / 4u) * SB][j % 4u]);
      }
    }
    var l = 0.0;
    var sum = 0.0;
    for (var j = 0u; j < VPT; j++) {
      let v = v0 + t + j * WG;
      if (v < p.vEnd) {
        let x = acc[i + (j / 4u) * SB][j % 4u];
        l += exp(x - m);
        sum += x;
        if (s < p.S && v == lab) {
          logp[s] = x;
        }
      }
    }
    red[i * WG + t] = vec3<f32>(m, l, sum);
  }
  workgroupBarrier();
  let s = s0 + t;
  if (t < SB && s < p.S) {
    var m = NEG;
    var l = 0.0;
    var sum = 0.0;
    for (var u = 0u; u < WG; u++) {
      let r = red[t * WG + u];
      let mn = max(m, r.x);
      l = l * exp(m - mn) + r.y * exp(r.x - mn);
      m = mn;
      sum += r.z;
    }
    part[s * p.nTotal + p.base + wid.x] = vec4<f32>(m, l, sum, 0.0);
  }
}
#endif

#if FWD_COMBINE
struct Params { S: u32, nTotal: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> logp: array<f32>;      // (S) f32 in: label logit, out: log-prob
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;       // (S) f32
@group(0) @binding(3) var<storage, read_write> logitSum: array<f32>;  // (S) f32 Σ_v logits
@group(0) @binding(4) var<storage, read> part: array<vec4<f32>>;      // (S, nTotal) from FWD_PART

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = gid.x;
  if (s >= p.S) { return; }
  var m = NEG;
  var l = 0.0;
  var sum = 0.0;
  for (var c = 0u; c < p.nTotal; c++) {
    let r = part[s * p.nTotal + c];
    let mn = max(m, r.x);
    l = l * exp(m - mn) + r.y * exp(r.x - mn);
    m = mn;
    sum += r.z;
  }
  let z = m + log(l);
  lse[s] = z;
  logp[s] = logp[s] - z;
  logitSum[s] = sum;
}
#endif

#if GRAD_PART
// (S, nTotal) (max, sumexp, logit-sum, 0) per split as FWD_PART's, then from e_base (nTotal, S, C/4) Σ_v exp(x_v − max) W_v
@group(0) @binding(1) var<storage, read_write> part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> logp: array<f32>;        // (S) f32: the label's logit, for now
@group(0) @binding(3) var<storage, read_write> dir: array<vec4<f32>>;   // (S, C/4) f32: W[label], for now
@group(0) @binding(4) var<storage, read> h: array<vec4<f32>>;           // (M, C/4) f32
@group(0) @binding(5) var<storage, read> rows: array<u32>;              // (S) u32
@group(0) @binding(6) var<storage, read> labels: array<u32>;            // (S) u32
@group(0) @binding(7) var<storage, read> w: array<u32>;                 // (vEnd - vStart, C) one part of W

const SBQ = (SB + 3u) / 4u;  // vec4s of positions per vocab row in pw
// (VCH, SBQ) vec4: exp(logit − running max) for the current chunk, four positions per vec4, so the Σ softmax·W loop
// reads a row's SB probabilities in SBQ loads, not SB: the pass alone 8.2-8.3 s against 9.2-10.8 s as (SB, VCH)
// f32 (q8_0, S 331, V 32000, C 256), and `cli grads --profile`'s head_grad_part 10.7-11.1 s against 11.6-12.7 s
// (SwiftShader, alternated). A GPU reads each as one broadcast vec4.
var<workgroup> pw: array<vec4<f32>, VCH * SBQ>;
var<workgroup> red: array<f32, SB * WG>;  // (SB, WG) each thread's chunk max; at the end its sumexp, then logit sum

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let s0 = wid.y * SB;
  let sp = wid.x;
  let cA = sp * p.nChunkPart / p.nSplitPart;
  let cB = (sp + 1u) * p.nChunkPart / p.nSplitPart;
  let C4 = p.C / 4u;
  let C8 = (p.C + 7u) / 8u;
  var lab: array<u32, SB>;
  var m: array<f32, SB>;    // running max of this split's logits per position: the same in every thread
  var l: array<f32, SB>;    // this thread's Σ exp(x − m) over its rows
  var sum: array<f32, SB>;  // this thread's Σ x over its rows
  var sc: array<f32, SB>;   // exp(m_before − m_after) of the current chunk
  for (var i = 0u; i < SB; i++) {
    lab[i] = labels[min(s0 + i, p.S - 1u)];
    m[i] = NEG;
    l[i] = 0.0;
    sum[i] = 0.0;
  }
  {{BACC_DECL}}
  for (var c = cA; c < cB; c++) {
    let v0 = p.vStart + c * VCH;
    let lg = logits_tile(s0, v0, t);
    for (var i = 0u; i < SB; i++) {
      var mt = NEG;
      for (var j = 0u; j < VPT; j++) {
        if (v0 + t + j * WG < p.vEnd) { mt = max(mt, lg[i + (j / 4u) * SB][j % 4u]); }
      }
      red[i * WG + t] = mt;
    }
    workgroupBarrier();
    // Every thread folds the chunk's maxima in the same order, so m is uniform without another pass; the
    // accumulators (a whole workgroup's rows) are rescaled by exp(m_old − m_new), as in online softmax.
    for (var i = 0u; i < SB; i++) {
      var mc = m[i];
      for (var u = 0u; u < WG; u++) { mc = max(mc, red[i * WG + u]); }
      sc[i] = exp(m[i] - mc);
      m[i] = mc;
      l[i] *= sc[i];
      let s = s0 + i;
      for (var j = 0u; j < VPT; j++) {
        let v = v0 + t + j * WG;
        var pv = 0.0;
        if (v < p.vEnd) {
          let x = lg[i + (j / 4u) * SB][j % 4u];
          pv = exp(x - mc);
          l[i] += pv;
          sum[i] += x;
          if (s < p.S && v == lab[i]) { logp[s] = x; }
        }
        pw[(t + j * WG) * SBQ + i / 4u][i % 4u] = pv;
      }
    }
    {{BACC_RESCALE}}
    workgroupBarrier();
    let nv = min(VCH, p.vEnd - v0);
    for (var r = 0u; r < nv; r++) {
      let row = v0 - p.vStart + r;
      {{BACC_STEP}}
    }
    workgroupBarrier();
  }
  {{BACC_STORE}}
  // The split's (max, sumexp, logit sum) per position: threads' sums folded in a fixed order.
  for (var i = 0u; i < SB; i++) { red[i * WG + t] = l[i]; }
  workgroupBarrier();
  var lt = 0.0;
  if (t < SB) {
    for (var u = 0u; u < WG; u++) { lt += red[t * WG + u]; }
  }
  workgroupBarrier();
  for (var i = 0u; i < SB; i++) { red[i * WG + t] = sum[i]; }
  workgroupBarrier();
  if (t < SB && s0 + t < p.S) {
    var st = 0.0;
    for (var u = 0u; u < WG; u++) { st += red[t * WG + u]; }
    part[(s0 + t) * p.nTotal + p.base + sp] = vec4<f32>(m[t], lt, st, 0.0);
  }
  // The split holding a position's label copies that row of W into dir; the combine subtracts Σ p_v W_v from it.
  let lo = p.vStart + cA * VCH;
  let hi = min(p.vStart + cB * VCH, p.vEnd);
  {{LABEL_ROW}}
}
#endif

#if GRAD_COMBINE
struct Params { S: u32, C4: u32, nTotal: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dir: array<vec4<f32>>;  // (S, C/4) f32 in: W[label], out: ∂logp/∂h
@group(0) @binding(2) var<storage, read> lse: array<f32>;             // (S) f32 from FWD_COMBINE
@group(0) @binding(3) var<storage, read> part: array<vec4<f32>>;      // GRAD_PART's stats, then its (nTotal, S, C/4) sums

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= p.S * p.C4) { return; }
  let s = idx / p.C4;
  let c4 = idx % p.C4;
  let z = lse[s];
  var e = vec4<f32>(0.0);
  for (var sp = 0u; sp < p.nTotal; sp++) {
    // The split's partial is relative to its own max: exp(m_split − lse) turns it into Σ softmax_v W_v.
    e += exp(part[s * p.nTotal + sp].x - z) * part[e_base(p.S, p.nTotal) + (sp * p.S + s) * p.C4 + c4];
  }
  dir[idx] = dir[idx] - e;
}
#endif

#if BWD
struct Params { S: u32, C4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dh: array<vec4<f32>>;  // (M, C/4) f32, only rows[] written
@group(0) @binding(2) var<storage, read> dlogp: array<f32>;          // (S) f32
@group(0) @binding(3) var<storage, read> rows: array<u32>;           // (S) u32
@group(0) @binding(4) var<storage, read> dir: array<vec4<f32>>;      // (S, C/4) f32 ∂logp/∂h from GRAD_COMBINE

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= p.S * p.C4) { return; }
  let s = idx / p.C4;
  dh[rows[s] * p.C4 + idx % p.C4] = dlogp[s] * dir[idx];
}
#endif
