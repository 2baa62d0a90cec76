// Causal grouped-query attention with workgroup-shared tiles: the variant for real GPUs.
// Same layouts, masking and backward split as attention.wgsl (read its header); PREP comes from there.
// A workgroup owns BQ query rows (forward, DQ) or BK key rows (DKDV) of one head; TPR threads share a row,
// each keeping a D/TPR slice of the row's accumulator in registers, so D = 128 needs no spilling. Scores go
// through workgroup memory: the (T, T) matrix only ever exists one BQ x BK tile at a time.
// Repeated on purpose: FORWARD and DQ walk the same key tiles (load K into shared memory, then score) with different accumulators; each pass is its own #if module, kept to be read top to bottom rather than joined from fragments.
//
// SUBGROUPS (a device whose subgroups have at least TPR lanes): a row's TPR threads each dot a D/TPR slice of
// their row (FORWARD, DQ: the query and dout rows; DKDV: the key and value rows), held in registers, with every
// row of the streamed tile, and sum the slices across the row by subgroupShuffleXor, so every thread of the row
// holds every score. The row's own tiles and the score tiles leave workgroup memory, with the barrier between
// scoring and accumulating. The row's TPR threads must be TPR neighbouring
// lanes of one subgroup: WebGPU does not promise how local_invocation_index maps to lanes, but Vulkan (full
// subgroups), Metal and D3D12 all lay a one-dimensional workgroup out that way, and SwiftShader (tests) does too.
#if SUBGROUPS
enable subgroups;
#endif

struct Params { B: u32, Tq: u32, Tk: u32, H: u32, Hkv: u32, kvStride: u32, useLen: u32, scale: f32, win: u32 } // win: unused here (windowed calls take the loop kernels)
@group(0) @binding(0) var<uniform> p: Params;

const D: u32 = {{D}}u;
const BQ: u32 = {{BQ}}u;
const BK: u32 = {{BK}}u;
const TPR: u32 = {{TPR}}u;
const DS: u32 = D / TPR;
const NEG: f32 = -3.0e38;   // masked score: exp(NEG - finite max) is exactly 0

var<workgroup> endW: u32;
var<workgroup> skipW: vec2<u32>;   // keys [x, y) every row of the block skips (a branch layout's hidden branch)

fn len_of(b: u32) -> u32 {
  var lenb = p.Tk;
  if (p.useLen != 0u) { lenb = min(lengths[b], p.Tk); }
  return max(lenb, 1u);   // key 0 is always visible
}

// Whether query t sees key j (j < lenb given): j at or before its position, and in a branch layout (useLen 2,
// lengths then promptLen then branchStart; attention.wgsl's vis_of) not a first-branch key [br.x, br.y) from a
// query of the second branch (t >= br.y).
fn branch_of(b: u32) -> vec2<u32> {
  if (p.useLen == 2u) { return vec2<u32>(lengths[p.B + b], lengths[2u * p.B + b]); }
  return vec2<u32>(0xffffffffu);
}
fn visible(t: u32, j: u32, lenb: u32, br: vec2<u32>) -> bool {
  let tt = min(p.Tk - p.Tq + t + 1u, lenb) - 1u;
  return j <= tt && !(tt >= br.y && j >= br.x && j < br.y);
}

// The keys no query row t0.. of a block sees because they all sit in the second branch: the first branch
// [br.x, br.y), else an empty range. A key tile inside it is skipped (the bound is broadcast, so uniform).
fn block_skip(t0: u32, lenb: u32, br: vec2<u32>) -> vec2<u32> {
  let tt = min(p.Tk - p.Tq + t0 + 1u, lenb) - 1u;
  return select(vec2<u32>(0u), br, tt >= br.y);
}

#if FORWARD
const WG: u32 = BQ * TPR;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // (B*Tq, H*D) f32
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;   // (B, H, Tq) f32
@group(0) @binding(3) var<storage, read> q: array<f32>;           // (B*Tq, H*D) f32
@group(0) @binding(4) var<storage, read> k: array<f32>;           // (B*kvStride, Hkv*D) f32
@group(0) @binding(5) var<storage, read> v: array<f32>;           // (B*kvStride, Hkv*D) f32
@group(0) @binding(6) var<storage, read> lengths: array<u32>;     // (B) u32, unread unless useLen

var<workgroup> Ks: array<f32, BK * D>;   // (BK, D)
var<workgroup> Vs: array<f32, BK * D>;   // (BK, D)
#if !SUBGROUPS
var<workgroup> Qs: array<f32, BQ * D>;   // (BQ, D) pre-scaled query rows
var<workgroup> S: array<f32, BQ * BK>;   // (BQ, BK) scores of this tile
#endif

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.y;
  let b = wid.z;
  let g = h / (p.H / p.Hkv);
  let t0 = wid.x * BQ;
  let r = li / TPR;
  let c = li % TPR;
  let lenb = len_of(b);
  let br = branch_of(b);
  if (li == 0u) {
    endW = min(p.Tk - p.Tq + min(t0 + BQ, p.Tq), lenb);
    skipW = block_skip(t0, lenb, br);
  }
#if SUBGROUPS
  let t = t0 + r;
  let tc = min(t, p.Tq - 1u);
  // This thread's slice of its (pre-scaled) query row: elements c, c + TPR, ... (interleaved, so the row's
  // threads read neighbouring words of Ks). Rows past Tq repeat the last and are not written.
  var qv: array<f32, DS>;
  let qo = ((b * p.Tq + tc) * p.H + h) * D + c;
  for (var i = 0u; i < DS; i++) { qv[i] = q[qo + i * TPR] * p.scale; }
  var sv: array<f32, BK>;   // this tile's scores of the row, in every thread of the row
#else
  for (var e = li; e < BQ * D; e += WG) {
    let t = t0 + e / D;
    var x = 0.0;
    if (t < p.Tq) { x = q[((b * p.Tq + t) * p.H + h) * D + e % D] * p.scale; }
    Qs[e] = x;
  }
  let t = t0 + r;
  let tc = min(t, p.Tq - 1u);
#endif
  // The block's last row sees the most keys; a uniform bound keeps every barrier in uniform control flow.
  let kend = workgroupUniformLoad(&endW);
  let skip = workgroupUniformLoad(&skipW);

  var acc: array<f32, DS>;
  for (var d = 0u; d < DS; d++) { acc[d] = 0.0; }
  var m = NEG;
  var l = 0.0;
  for (var kt = 0u; kt < kend; kt += BK) {
    if (kt >= skip.x && kt + BK <= skip.y) { continue; }
    for (var e = li; e < BK * D; e += WG) {
      let j = kt + e / D;
      var kx = 0.0;
      var vx = 0.0;
      if (j < kend) {
        let o = ((b * p.kvStride + j) * p.Hkv + g) * D + e % D;
        kx = k[o];
        vx = v[o];
      }
      Ks[e] = kx;
      Vs[e] = vx;
    }
    workgroupBarrier();
#if SUBGROUPS
    // Each score is the sum of the row's TPR slices: a butterfly over the row's lanes (every call in uniform
    // control flow: all threads run every u). a + b == b + a exactly, so the row's threads agree bit for bit.
    var mx = m;
    for (var u = 0u; u < BK; u++) {
      var x = 0.0;
      for (var i = 0u; i < DS; i++) { x += qv[i] * Ks[u * D + c + i * TPR]; }
      for (var o = 1u; o < TPR; o <<= 1u) { x += subgroupShuffleXor(x, o); }
      let s = select(NEG, x, visible(tc, kt + u, lenb, br));
      sv[u] = s;
      mx = max(mx, s);
    }
#else
    for (var u = c; u < BK; u += TPR) {
      var s = NEG;
      if (visible(tc, kt + u, lenb, br)) {
        s = 0.0;
        for (var d = 0u; d < D; d++) { s += Qs[r * D + d] * Ks[u * D + d]; }
      }
      S[r * BK + u] = s;
    }
    workgroupBarrier();
    // Every thread of a row derives the same max and sum from S, which avoids another barrier.
    var mx = m;
    for (var u = 0u; u < BK; u++) { mx = max(mx, S[r * BK + u]); }
#endif
    let corr = exp(m - mx);
    l *= corr;
    for (var d = 0u; d < DS; d++) { acc[d] *= corr; }
    for (var u = 0u; u < BK; u++) {
#if SUBGROUPS
      let pj = exp(sv[u] - mx);
#else
      let pj = exp(S[r * BK + u] - mx);
#endif
      l += pj;
      for (var d = 0u; d < DS; d++) { acc[d] += pj * Vs[u * D + c * DS + d]; }
    }
    m = mx;
    workgroupBarrier();
  }
  if (t < p.Tq) {
    let o = ((b * p.Tq + t) * p.H + h) * D + c * DS;
    let inv = 1.0 / l;
    for (var d = 0u; d < DS; d++) { out[o + d] = acc[d] * inv; }
    if (c == 0u) { lse[(b * p.H + h) * p.Tq + t] = m + log(l); }
  }
}
#endif

#if DKDV
const WG: u32 = BK * TPR;
@group(0) @binding(1) var<storage, read_write> dk: array<f32>;    // (B*kvStride, Hkv*D) f32
@group(0) @binding(2) var<storage, read_write> dv: array<f32>;    // (B*kvStride, Hkv*D) f32
@group(0) @binding(3) var<storage, read> dq: array<f32>;          // (B*Tq, H*D) f32, only D_i read (PREP)
@group(0) @binding(4) var<storage, read> dout: array<f32>;        // (B*Tq, H*D) f32
@group(0) @binding(5) var<storage, read> q: array<f32>;           // (B*Tq, H*D) f32
@group(0) @binding(6) var<storage, read> k: array<f32>;           // (B*kvStride, Hkv*D) f32
@group(0) @binding(7) var<storage, read> v: array<f32>;           // (B*kvStride, Hkv*D) f32
@group(0) @binding(8) var<storage, read> lse: array<f32>;         // (B, H, Tq) f32
@group(0) @binding(9) var<storage, read> lengths: array<u32>;     // (B) u32, unread unless useLen

var<workgroup> Qs: array<f32, BQ * D>;   // (BQ, D)
var<workgroup> Os: array<f32, BQ * D>;   // (BQ, D) dout rows
var<workgroup> Ls: array<f32, BQ>;       // (BQ) lse
var<workgroup> Ds: array<f32, BQ>;       // (BQ) D_i
#if !SUBGROUPS
var<workgroup> Ks: array<f32, BK * D>;   // (BK, D) pre-scaled keys
var<workgroup> Vs: array<f32, BK * D>;   // (BK, D)
var<workgroup> P: array<f32, BK * BQ>;   // (BK, BQ) probabilities
var<workgroup> G: array<f32, BK * BQ>;   // (BK, BQ) score gradients
#endif

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let g = wid.y;
  let b = wid.z;
  let j0 = wid.x * BK;
  let r = li / TPR;
  let c = li % TPR;
  let j = j0 + r;
  if (li == 0u) {
    endW = len_of(b);
    // A key block inside a branch layout's first branch: no query from the second branch's start on sees it.
    let br = branch_of(b);
    skipW = vec2<u32>(select(p.Tq, min(p.Tq, br.y), j0 >= br.x && j0 + BK <= br.y), 0u);
  }
  let jend = workgroupUniformLoad(&endW);   // keys at or past jend are seen by no query
  let qend = workgroupUniformLoad(&skipW).x;

  var dka: array<f32, DS>;
  var dva: array<f32, DS>;
  for (var d = 0u; d < DS; d++) {
    dka[d] = 0.0;
    dva[d] = 0.0;
  }
  if (j0 < jend) {
#if SUBGROUPS
    // This thread's slices of its (pre-scaled) key row and value row, interleaved as in FORWARD. Rows at or past
    // jend repeat the last visible key and get probability 0.
    var kv: array<f32, DS>;
    var vv: array<f32, DS>;
    let ko = ((b * p.kvStride + min(j, jend - 1u)) * p.Hkv + g) * D + c;
    for (var i = 0u; i < DS; i++) {
      kv[i] = k[ko + i * TPR] * p.scale;
      vv[i] = v[ko + i * TPR];
    }
#else
    for (var e = li; e < BK * D; e += WG) {
      let jj = j0 + e / D;
      var kx = 0.0;
      var vx = 0.0;
      if (jj < jend) {
        let o = ((b * p.kvStride + jj) * p.Hkv + g) * D + e % D;
        kx = k[o] * p.scale;
        vx = v[o];
      }
      Ks[e] = kx;
      Vs[e] = vx;
    }
#endif
    let grp = p.H / p.Hkv;
    let br = branch_of(b);
    // The first query whose position Tk - Tq + t reaches this block's first key.
    let tstart = max(j0 + p.Tq, p.Tk) - p.Tk;
    for (var hh = 0u; hh < grp; hh++) {
      let h = g * grp + hh;
      for (var qt = tstart; qt < qend; qt += BQ) {
        for (var e = li; e < BQ * D; e += WG) {
          let t = qt + e / D;
          var qx = 0.0;
          var ox = 0.0;
          if (t < p.Tq) {
            let o = ((b * p.Tq + t) * p.H + h) * D + e % D;
            qx = q[o];
            ox = dout[o];
          }
          Qs[e] = qx;
          Os[e] = ox;
        }
        for (var u = li; u < BQ; u += WG) {
          let t = qt + u;
          var lx = 0.0;
          var dx = 0.0;
          if (t < p.Tq) {
            lx = lse[(b * p.H + h) * p.Tq + t];
            dx = dq[((b * p.Tq + t) * p.H + h) * D];
          }
          Ls[u] = lx;
          Ds[u] = dx;
        }
        workgroupBarrier();
#if SUBGROUPS
        for (var u = 0u; u < BQ; u++) {
          var s = 0.0;
          var dp = 0.0;
          for (var i = 0u; i < DS; i++) {
            s += Qs[u * D + c + i * TPR] * kv[i];
            dp += Os[u * D + c + i * TPR] * vv[i];
          }
          for (var o = 1u; o < TPR; o <<= 1u) {
            s += subgroupShuffleXor(s, o);
            dp += subgroupShuffleXor(dp, o);
          }
          let t = qt + u;
          var pr = 0.0;
          var gr = 0.0;
          if (t < p.Tq && j < jend && visible(t, j, jend, br)) {
            pr = exp(s - Ls[u]);
            gr = pr * (dp - Ds[u]);
          }
          for (var d = 0u; d < DS; d++) {
            dva[d] += pr * Os[u * D + c * DS + d];
            dka[d] += gr * Qs[u * D + c * DS + d];
          }
        }
#else
        for (var u = c; u < BQ; u += TPR) {
          let t = qt + u;
          var pr = 0.0;
          var gr = 0.0;
          if (t < p.Tq && j < jend && visible(t, j, jend, br)) {
            var s = 0.0;
            var dp = 0.0;
            for (var d = 0u; d < D; d++) {
              s += Qs[u * D + d] * Ks[r * D + d];
              dp += Os[u * D + d] * Vs[r * D + d];
            }
            pr = exp(s - Ls[u]);
            gr = pr * (dp - Ds[u]);
          }
          P[r * BQ + u] = pr;
          G[r * BQ + u] = gr;
        }
        workgroupBarrier();
        for (var u = 0u; u < BQ; u++) {
          let pr = P[r * BQ + u];
          let gr = G[r * BQ + u];
          for (var d = 0u; d < DS; d++) {
            dva[d] += pr * Os[u * D + c * DS + d];
            dka[d] += gr * Qs[u * D + c * DS + d];
          }
        }
#endif
        workgroupBarrier();
      }
    }
  }
  if (j < p.kvStride) {
    let o = ((b * p.kvStride + j) * p.Hkv + g) * D + c * DS;
    for (var d = 0u; d < DS; d++) {
      dk[o + d] = dka[d] * p.scale;
      dv[o + d] = dva[d];
    }
  }
}
#endif

#if DQ
const WG: u32 = BQ * TPR;
@group(0) @binding(1) var<storage, read_write> dq: array<f32>;    // (B*Tq, H*D) f32, holds D_i (PREP) on entry
@group(0) @binding(2) var<storage, read> dout: array<f32>;        // (B*Tq, H*D) f32
@group(0) @binding(3) var<storage, read> q: array<f32>;           // (B*Tq, H*D) f32
@group(0) @binding(4) var<storage, read> k: array<f32>;           // (B*kvStride, Hkv*D) f32
@group(0) @binding(5) var<storage, read> v: array<f32>;           // (B*kvStride, Hkv*D) f32
@group(0) @binding(6) var<storage, read> lse: array<f32>;         // (B, H, Tq) f32
@group(0) @binding(7) var<storage, read> lengths: array<u32>;     // (B) u32, unread unless useLen

var<workgroup> Ks: array<f32, BK * D>;   // (BK, D)
var<workgroup> Vs: array<f32, BK * D>;   // (BK, D)
#if !SUBGROUPS
var<workgroup> Qs: array<f32, BQ * D>;   // (BQ, D) pre-scaled query rows
var<workgroup> Os: array<f32, BQ * D>;   // (BQ, D) dout rows
var<workgroup> G: array<f32, BQ * BK>;   // (BQ, BK) score gradients
#endif

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.y;
  let b = wid.z;
  let g = h / (p.H / p.Hkv);
  let t0 = wid.x * BQ;
  let r = li / TPR;
  let c = li % TPR;
  let lenb = len_of(b);
  let br = branch_of(b);
  if (li == 0u) {
    endW = min(p.Tk - p.Tq + min(t0 + BQ, p.Tq), lenb);
    skipW = block_skip(t0, lenb, br);
  }
  let t = t0 + r;
  let tc = min(t, p.Tq - 1u);
#if SUBGROUPS
  // This thread's slices of its (pre-scaled) query row and its dout row, interleaved as in FORWARD.
  var qv: array<f32, DS>;
  var ov: array<f32, DS>;
  let qo = ((b * p.Tq + tc) * p.H + h) * D + c;
  for (var i = 0u; i < DS; i++) {
    qv[i] = q[qo + i * TPR] * p.scale;
    ov[i] = dout[qo + i * TPR];
  }
  var gv: array<f32, BK>;   // this tile's score gradients of the row, in every thread of the row
#else
  for (var e = li; e < BQ * D; e += WG) {
    let t = t0 + e / D;
    var qx = 0.0;
    var ox = 0.0;
    if (t < p.Tq) {
      let o = ((b * p.Tq + t) * p.H + h) * D + e % D;
      qx = q[o] * p.scale;
      ox = dout[o];
    }
    Qs[e] = qx;
    Os[e] = ox;
  }
#endif
  // D_i sits where this row's dq will go; it is read before the barriers below and written after them.
  let di = dq[((b * p.Tq + tc) * p.H + h) * D];
  let lrow = lse[(b * p.H + h) * p.Tq + tc];
  let kend = workgroupUniformLoad(&endW);
  let skip = workgroupUniformLoad(&skipW);

  var acc: array<f32, DS>;
  for (var d = 0u; d < DS; d++) { acc[d] = 0.0; }
  for (var kt = 0u; kt < kend; kt += BK) {
    if (kt >= skip.x && kt + BK <= skip.y) { continue; }
    for (var e = li; e < BK * D; e += WG) {
      let j = kt + e / D;
      var kx = 0.0;
      var vx = 0.0;
      if (j < kend) {
        let o = ((b * p.kvStride + j) * p.Hkv + g) * D + e % D;
        kx = k[o];
        vx = v[o];
      }
      Ks[e] = kx;
      Vs[e] = vx;
    }
    workgroupBarrier();
#if SUBGROUPS
    for (var u = 0u; u < BK; u++) {
      var s = 0.0;
      var dp = 0.0;
      for (var i = 0u; i < DS; i++) {
        s += qv[i] * Ks[u * D + c + i * TPR];
        dp += ov[i] * Vs[u * D + c + i * TPR];
      }
      for (var o = 1u; o < TPR; o <<= 1u) {
        s += subgroupShuffleXor(s, o);
        dp += subgroupShuffleXor(dp, o);
      }
      gv[u] = select(0.0, exp(s - lrow) * (dp - di), visible(tc, kt + u, lenb, br));
    }
#else
    for (var u = c; u < BK; u += TPR) {
      var gr = 0.0;
      if (visible(tc, kt + u, lenb, br)) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D; d++) {
          s += Qs[r * D + d] * Ks[u * D + d];
          dp += Os[r * D + d] * Vs[u * D + d];
        }
        let pr = exp(s - lrow);
        gr = pr * (dp - di);
      }
      G[r * BK + u] = gr;
    }
    workgroupBarrier();
#endif
    for (var u = 0u; u < BK; u++) {
#if SUBGROUPS
      let gr = gv[u];
#else
      let gr = G[r * BK + u];
#endif
      for (var d = 0u; d < DS; d++) { acc[d] += gr * Ks[u * D + c * DS + d]; }
    }
    workgroupBarrier();
  }
  if (t < p.Tq) {
    let o = ((b * p.Tq + t) * p.H + h) * D + c * DS;
    for (var d = 0u; d < DS; d++) { dq[o + d] = acc[d] * p.scale; }
  }
}
#endif
