// Causal grouped-query attention with private loops, no barriers and no workgroup memory: the variant for CPU
// rasterizers (SwiftShader runs invocations as SIMD lanes; barriers there cost coroutine switches).
// Also holds the backward pre-pass shared with attention_tiled.wgsl.
//
// Legend: q, out, dq (B*Tq, H*D); k, v, dk, dv (B*kvStride, Hkv*D); lse (B, H, Tq); lengths (B) u32, (3B) in a
// branch layout (useLen 2: lengths, promptLen, branchStart; see vis_of).
// Query t of batch b sits at position Tk - Tq + t and sees keys j <= position with j < lengths[b]; with a sliding
// window (win > 0) also only j >= kbeg_of(t) (see there); in a branch layout not the first branch from the second
// (vis_of). Masked keys are only masked: loops still start at key 0.
// Query head h reads kv head h / (H / Hkv).
// Backward is split so no float atomics are needed: PREP writes D_i = dout_i . out_i into the first element
// of dq's own (row, head) slot (dq is overwritten later anyway, and this saves a scratch buffer), DKDV runs
// over key rows and sums over the group's query heads, DQ over query rows. With STORE_DS, DKDV also writes dS
// (B, H, Tq, Tk4: rows padded to a multiple of 4) and DQ_DS replaces DQ: dq = scale · dS·K, one product instead
// of three.
//
// On SwiftShader every lane's storage load is a scalar gather, so each invocation owns several rows that share
// every load: 8 (2 for D > 64) query rows in FORWARD, 4 (2) in DQ_DS, 2 in DQ, 4 (2) key rows in DKDV. Where the
// device has subgroups, FORWARD spreads each row group over 4 lanes (LPR, see there). The rows live in
// named vec4 registers unrolled by attention.gen.ts (each {{…}} line is one generated block): an indexed private array becomes
// bounds-clamped per-lane stack traffic there, several times slower (measured).
// Repeated on purpose: each pass (#if FORWARD, DKDV, DQ, DQ_DS) is compiled as its own module and declares its own bindings next to its code.

#if SUBGROUPS
// FORWARD with LPR > 1: a row group's lanes sum their partial scores by subgroupShuffleXor. Its control flow is
// uniform across those lanes (they share every bound), but not across the subgroup, which the analysis sees.
enable subgroups;
diagnostic(off, subgroup_uniformity);
#endif

struct Params { B: u32, Tq: u32, Tk: u32, H: u32, Hkv: u32, kvStride: u32, useLen: u32, scale: f32, win: u32 }
@group(0) @binding(0) var<uniform> p: Params;

const D4: u32 = {{D4}}u;   // D / 4
const WG: u32 = {{WG}}u;
const NEG: f32 = -3.0e38;  // masked score: exp(NEG - finite max) is exactly 0

fn len_of(b: u32) -> u32 {
  var lenb = p.Tk;
  if (p.useLen != 0u) { lenb = min(lengths[b], p.Tk); }
  return max(lenb, 1u);   // key 0 is always visible
}

// First key query t sees: 0, or with a sliding window the first of the last win positions up to its own
// (key j > pos − win), the position clamped to the sequence's last key (decoding: each slot's own length).
fn kbeg_of(t: u32, lenb: u32) -> u32 {
  let pos1 = min(p.Tk - p.Tq + t + 1u, lenb);
  return select(0u, pos1 - min(pos1, p.win), p.win != 0u);
}

// (promptLen, branchStart) of batch b in a branch layout, else (MAX, MAX): then no query is past a branch start.
fn branch_of(b: u32) -> vec2<u32> {
  if (p.useLen == 2u) { return vec2<u32>(lengths[p.B + b], lengths[2u * p.B + b]); }
  return vec2<u32>(0xffffffffu);
}

// The keys query t sees, as [v.x, v.y) ∪ [v.z, v.w). Outside a branch layout, or before its second branch
// (br.y, with Tq == Tk), that is [kbeg_of(t), position] and an empty second range. A query of the second branch
// sees the shared prompt [0, br.x) and its own branch [br.y, t], at position t - (br.y - br.x) for the window.
fn vis_of(t: u32, lenb: u32, br: vec2<u32>) -> vec4<u32> {
  let end = min(p.Tk - p.Tq + t + 1u, lenb);
  if (end - 1u >= br.y) {
    let pos1 = end - (br.y - br.x);
    let a0 = select(0u, pos1 - min(pos1, p.win), p.win != 0u);
    let b0 = max(br.y, select(0u, end - min(end, p.win), p.win != 0u));
    return vec4<u32>(a0, br.x, b0, end);
  }
  return vec4<u32>(kbeg_of(t, lenb), end, end, end);
}
fn vis4(j: vec4<u32>, v: vec4<u32>) -> vec4<bool> {
  return ((j >= vec4<u32>(v.x)) & (j < vec4<u32>(v.y))) | ((j >= vec4<u32>(v.z)) & (j < vec4<u32>(v.w)));
}
fn vis2(j: vec2<u32>, v: vec4<u32>) -> vec2<bool> {
  return ((j >= vec2<u32>(v.x)) & (j < vec2<u32>(v.y))) | ((j >= vec2<u32>(v.z)) & (j < vec2<u32>(v.w)));
}
fn vis1(j: u32, v: vec4<u32>) -> bool {
  return (j >= v.x && j < v.y) || (j >= v.z && j < v.w);
}

// FORWARD's row group i (on its LPR lanes) and DQ_DS's invocation i: query rows tf .. tf + R - 1 (R = {{R}}) of
// head h in batch b, whose kv head starts at kbase. Heads vary fastest, so the lanes of a SIMD group share their
// rows' key counts (a CPU rasterizer runs the group for as long as its longest lane), and the rows that see the
// most keys go first (better balance). ok is false past the last group.
struct RowGroup { ok: bool, h: u32, tf: u32, b: u32, lenb: u32, kbase: u32 }
fn row_group(i: u32) -> RowGroup {
  let groups = (p.Tq + {{R}}u - 1u) / {{R}}u;
  let h = i % p.H;
  let b = min(i / (groups * p.H), p.B - 1u);
  let g = h / (p.H / p.Hkv);
  let tf = (groups - 1u - (i / p.H) % groups) * {{R}}u;
  return RowGroup(i < p.B * p.H * groups, h, tf, b, len_of(b), (b * p.kvStride * p.Hkv + g) * D4);
}

#if FORWARD
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>; // (B*Tq, H*D) f32
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;       // (B, H, Tq) f32
@group(0) @binding(3) var<storage, read> q: array<vec4<f32>>;         // (B*Tq, H*D) f32
@group(0) @binding(4) var<storage, read> k: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(5) var<storage, read> v: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(6) var<storage, read> lengths: array<u32>;         // (B) u32, unread unless useLen

// R = {{R}} neighbouring query rows per row group (tf .. tf + R - 1, row r in registers named ..r..): every key
// and value load, a gather on SwiftShader, serves all of them. Rows past Tq duplicate the last and are not written.
// LPR = {{LPR}} lanes per row group, neighbours in one subgroup: lane l holds vec4 slices [l·D4/LPR, (l+1)·D4/LPR)
// of every row, its queries, accumulators, keys and values. With 4 lanes (a device with subgroups) each lane keeps
// a quarter of the registers and gathers a quarter of the loads: at T 64, H 14/2, D 64 on SwiftShader that
// measured 73–90% of the roofline where one lane per row measured 53–70%, and at T 256 94–116% against 82–88%,
// and the kernel compiled in 2.4 s instead of 15.3 s (alternated runs, R 8).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let lane = i % {{LPR}}u;
  let rg = row_group(i / {{LPR}}u);
  if (!rg.ok) { return; }
  let h = rg.h;
  let tf = rg.tf;
  let b = rg.b;
  let lenb = rg.lenb;
  let kstep = p.Hkv * D4;
  let kbase = rg.kbase + lane * (D4 / {{LPR}}u);
  let sc = p.scale;
  let br = branch_of(b);
  {{F_ROWS}}
  {{SKIP}}
  // The last row sees the most keys. Four keys per step: one rescale of the accumulators per four keys.
  // Keys past kend re-read the last visible key (finite, unlike masked rows) with probability 0.
  let kend = kend{{RL}};
  let last = kend - 1u;
  for (var j0 = 0u; j0 < kend; j0 += 4u) {
    // Keys no row of the group sees (a branch layout's first branch, for second-branch rows) are jumped over.
    if (j0 >= skLo && j0 < skHi) {
      j0 = skHi;
      if (j0 >= kend) { break; }
    }
    let o0 = kbase + j0 * kstep;
    let o1 = kbase + min(j0 + 1u, last) * kstep;
    let o2 = kbase + min(j0 + 2u, last) * kstep;
    let o3 = kbase + min(j0 + 3u, last) * kstep;
    let jj = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u);
    {{F_SZERO}}
    {{F_QK}}
    {{F_LANESUM}}
    // exp(NEG - mx) is 0 on the first step, which holds key 0 and so a finite max. (With a window, a row's
    // steps before its first key have mx = NEG and accumulate junk with weight 1; the first visible key's
    // finite max then rescales it by exp(NEG - mx) = 0.)
    {{F_SOFTMAX}}
    {{F_PV}}
  }
  {{F_OUT}}
}
#endif

#if PREP
@group(0) @binding(1) var<storage, read_write> dq: array<vec4<f32>>;  // (B*Tq, H*D) f32, D_i in each slot's first element
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;      // (B*Tq, H*D) f32
@group(0) @binding(3) var<storage, read> out: array<vec4<f32>>;       // (B*Tq, H*D) f32
@group(0) @binding(4) var<storage, read> lengths: array<u32>;         // unused; len_of needs the declaration

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;   // (b*Tq + t)*H + h
  if (i >= p.B * p.Tq * p.H) { return; }
  let o = i * D4;
  var s4 = vec4<f32>(0.0);
  for (var d = 0u; d < D4; d++) { s4 += dout[o + d] * out[o + d]; }
  dq[o] = vec4<f32>(s4.x + s4.y + s4.z + s4.w, 0.0, 0.0, 0.0);
}
#endif

#if DKDV
@group(0) @binding(1) var<storage, read_write> dk: array<vec4<f32>>;  // (B*kvStride, Hkv*D) f32
@group(0) @binding(2) var<storage, read_write> dv: array<vec4<f32>>;  // (B*kvStride, Hkv*D) f32
@group(0) @binding(3) var<storage, read> dq: array<vec4<f32>>;        // (B*Tq, H*D) f32, only D_i read (PREP)
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;      // (B*Tq, H*D) f32
@group(0) @binding(5) var<storage, read> q: array<vec4<f32>>;         // (B*Tq, H*D) f32
@group(0) @binding(6) var<storage, read> k: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(7) var<storage, read> v: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(8) var<storage, read> lse: array<f32>;             // (B, H, Tq) f32
@group(0) @binding(9) var<storage, read> lengths: array<u32>;         // (B) u32, unread unless useLen
#if STORE_DS
@group(0) @binding(10) var<storage, read_write> dsb: array<{{VKF}}>; // (B, H, Tq, Tk4) f32 dS, visible entries
#endif

// KPI = {{KPI}} neighbouring keys per invocation (ja .. ja + KPI - 1, key c in registers named ..c_..): each query
// and dout load, a gather on SwiftShader, serves all of them (4 keys measured ~1.3x over 2 at D = 64, where those
// loads were half the loop's time). A key past jend (or kvStride) re-reads the last visible one, gets probability
// 0, and is not written past kvStride.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = gid.x + gid.y * nwg.x * WG;
  let groups = (p.kvStride + {{KPI}}u - 1u) / {{KPI}}u;
  if (i >= p.B * p.Hkv * groups) { return; }
  let ja = (i % groups) * {{KPI}}u;
  let g = (i / groups) % p.Hkv;
  let b = i / (groups * p.Hkv);
  let jend = len_of(b);
  let kstep = p.Hkv * D4;
  let koa = ((b * p.kvStride + ja) * p.Hkv + g) * D4;
  {{KV_ZERO}}
  if (ja < jend) {
    let sc = p.scale;
    {{KV_KO}}
    {{KV_LOAD}}
    let grp = p.H / p.Hkv;
    // Start at the first query that sees this workgroup's first key of (b, g), not this lane's own: lanes then
    // walk the same queries in step instead of diverging at the start, masking the few they cannot see.
    let jlo = ja - min(ja, {{KPI}}u * lid);
    let t0 = max(jlo + p.Tq, p.Tk) - p.Tk;
    let jj = {{VKU}}({{KV_JJ}});
    let kok = jj < {{VKU}}(jend);
    let br = branch_of(b);
    // Keys all inside a branch layout's first branch are seen by no query of the second (nor the padding after
    // it): their queries end at the second branch's start.
    let tend = select(p.Tq, min(p.Tq, br.y), ja >= br.x && ja + {{KPI}}u <= br.y);
    for (var hh = 0u; hh < grp; hh++) {
      let h = g * grp + hh;
      let lo = (b * p.H + h) * p.Tq;
      for (var t = t0; t < tend; t++) {
        let qo = ((b * p.Tq + t) * p.H + h) * D4;
        // Loaded once, used twice: before and after the probabilities are known.
        {{KV_QLOAD}}
        var sk = {{VKF}}(0.0);   // scores of the KPI keys
        var dpk = {{VKF}}(0.0);
        {{KV_QKDO}}
        let vis = kok & vis{{KPI}}(jj, vis_of(t, jend, br));
        let pr = select({{VKF}}(0.0), exp(sk - {{VKF}}(lse[lo + t])), vis);
        let ds = pr * (dpk - {{VKF}}(dq[qo].x));
#if STORE_DS
        // Every visible (t, key) pair passes here (t0 is the first query that sees this lane's keys, tend is past
        // the last), so DQ_DS reads only entries written in this pass. Rows are padded to Tk4 (a multiple of 4), so the KPI keys are
        // one aligned vector store.
        dsb[((lo + t) * ((p.Tk + 3u) / 4u) * 4u + ja) / {{KPI}}u] = ds;
#endif
        {{KV_ACC}}
      }
    }
  }
  {{KV_OUT}}
}
#endif

#if DQ
@group(0) @binding(1) var<storage, read_write> dq: array<vec4<f32>>;  // (B*Tq, H*D) f32, holds D_i (PREP) on entry
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;      // (B*Tq, H*D) f32
@group(0) @binding(3) var<storage, read> q: array<vec4<f32>>;         // (B*Tq, H*D) f32
@group(0) @binding(4) var<storage, read> k: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(5) var<storage, read> v: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(6) var<storage, read> lse: array<f32>;             // (B, H, Tq) f32
@group(0) @binding(7) var<storage, read> lengths: array<u32>;         // (B) u32, unread unless useLen

// Two neighbouring query rows per invocation, as in FORWARD: each key and value load serves both.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let pairs = (p.Tq + 1u) / 2u;
  if (i >= p.B * p.H * pairs) { return; }
  // Heads fastest and the longest rows first, as in FORWARD.
  let h = i % p.H;
  let ta = (pairs - 1u - (i / p.H) % pairs) * 2u;
  let tb = min(ta + 1u, p.Tq - 1u);
  let b = i / (pairs * p.H);
  let g = h / (p.H / p.Hkv);
  let lenb = len_of(b);
  let br = branch_of(b);
  let visa = vis_of(ta, lenb, br);
  let visb = vis_of(tb, lenb, br);
  let kend = min(p.Tk - p.Tq + tb + 1u, lenb);
  let qa = ((b * p.Tq + ta) * p.H + h) * D4;
  let qb = ((b * p.Tq + tb) * p.H + h) * D4;
  let kstep = p.Hkv * D4;
  let kbase = (b * p.kvStride * p.Hkv + g) * D4;
  // D_i of both rows, read before this invocation overwrites their dq slots.
  let dia = dq[qa].x;
  let dib = dq[qb].x;
  let lia = lse[(b * p.H + h) * p.Tq + ta];
  let lib = lse[(b * p.H + h) * p.Tq + tb];
  let sc = p.scale;
  {{Q2_LOAD}}
  {{E2_LOAD}}
  {{A2_ZERO}}
  let last = kend - 1u;
  // Keys neither row sees: jumped over, as in FORWARD.
  let skLo = max(visa.y, visb.y);
  let skHi = min(visa.z, visb.z);
  // Two keys per step; a key past kend re-reads the last one with ds = 0.
  for (var j0 = 0u; j0 < kend; j0 += 2u) {
    if (j0 >= skLo && j0 < skHi) {
      j0 = skHi;
      if (j0 >= kend) { break; }
    }
    let o0 = kbase + j0 * kstep;
    let o1 = kbase + min(j0 + 1u, last) * kstep;
    let jj = vec2<u32>(j0, j0 + 1u);
    var sa = vec2<f32>(0.0);
    var sb = vec2<f32>(0.0);
    var pa = vec2<f32>(0.0);
    var pb = vec2<f32>(0.0);
    {{QK2X2}}
    let dsa = select(vec2<f32>(0.0), exp(sa - vec2<f32>(lia)) * (pa - vec2<f32>(dia)), vis2(jj, visa));
    let dsb = select(vec2<f32>(0.0), exp(sb - vec2<f32>(lib)) * (pb - vec2<f32>(dib)), vis2(jj, visb));
    {{A2_DSK}}
  }
  {{A2_OUT_DQA}}
  if (ta + 1u < p.Tq) {
    {{A2_OUT_DQB}}
  }
}
#endif

#if DQ_DS
@group(0) @binding(1) var<storage, read_write> dq: array<vec4<f32>>;  // (B*Tq, H*D) f32
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;         // (B*kvStride, Hkv*D) f32
@group(0) @binding(3) var<storage, read> dsb: array<f32>;             // (B, H, Tq, Tk4) f32 from DKDV (STORE_DS)
@group(0) @binding(4) var<storage, read> lengths: array<u32>;         // (B) u32, unread unless useLen

// dq = scale · dS·K from the dS that DKDV stored: one product instead of DQ's three (QKᵀ and dO·Vᵀ again, then
// dS·K). {{R}} query rows per invocation (row_group) share each key load.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let rg = row_group(gid.x + gid.y * nwg.x * WG);
  if (!rg.ok) { return; }
  let h = rg.h;
  let tf = rg.tf;
  let b = rg.b;
  let lenb = rg.lenb;
  let kstep = p.Hkv * D4;
  let kbase = rg.kbase;
  let br = branch_of(b);
  {{DS_ROWS}}
  {{SKIP}}
  let kend = kend{{RL}};
  for (var j = 0u; j < kend; j++) {
    // Keys no row sees (DKDV did not store their dS): jumped over, as in FORWARD.
    if (j >= skLo && j < skHi) {
      j = skHi;
      if (j >= kend) { break; }
    }
    let o = kbase + j * kstep;
    {{DS_LOAD}}
    {{DS_ACC}}
  }
  {{DS_OUT}}
}
#endif
