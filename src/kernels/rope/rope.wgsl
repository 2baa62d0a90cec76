// RoPE, HF "rotate_half" convention: within each head, element i pairs with i + D/2 (i < D/2) and the pair turns
// by angle = f32(position) · inv_freq[i], the f32 product HF forms before cos/sin.
//   forward:  (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin)
//   backward: the transpose, a turn by −angle.
// Row r of x is at position pos0 + (r mod T), or positions[r] where usePos (a runtime flag, so the same pipeline
// serves both: training's shared-prompt layout restarts positions at its second branch). In place: each invocation
// owns one pair.

struct Params { n: u32, t: u32, heads: u32, half: u32, pos0: u32, usePos: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;   // (nTok, heads*D) f32, in place
@group(0) @binding(2) var<storage, read> inv_freq: array<f32>;  // (D/2) f32
@group(0) @binding(3) var<storage, read> positions: array<u32>; // (nTok) u32, unread unless usePos

// sin and cos of an f32 angle to ~1 ulp. WGSL only promises 2^-11 absolute error for cos/sin, and SwiftShader
// delivers about that (3.6e-4 measured at positions < 4096): more than the 1e-4 rtol the kernels are held to.
// Cody-Waite reduction by π/2 in four pieces of 8, 8, 8 and 24 bits: q·piece is exact for |q| < 2^16, i.e.
// angles up to ~1e5 rad, then the cephes sinf/cosf polynomials on [−π/4, π/4].
fn sincos(a: f32) -> vec2<f32> {
  let qf = round(a * 0.63661977236758134);
  var r = a - qf * 1.5703125;
  r = r - qf * 0.000484466552734375;
  r = r - qf * -6.4074993133544922e-7;
  r = r - qf * 9.9209351844820048e-10;
  let z = r * r;
  let s = r + r * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
  let c = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
  let q = u32(i32(qf) & 3);
  if (q == 0u) { return vec2<f32>(s, c); }
  if (q == 1u) { return vec2<f32>(c, -s); }
  if (q == 2u) { return vec2<f32>(-s, -c); }
  return vec2<f32>(-c, s);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * 256u; // pair index over (token, head, i)
  if (k >= p.n) { return; }
  let i = k % p.half;
  let th = k / p.half;                  // token * heads + head
  let tok = th / p.heads;
  var pos = p.pos0 + tok % p.t;
  if (p.usePos != 0u) { pos = positions[tok]; }
  let angle = f32(pos) * inv_freq[i];
  let sc = sincos(angle);
  let c = sc.y;
#if FORWARD
  let s = sc.x;
#else
  let s = -sc.x;
#endif
  let o = th * 2u * p.half + i;
  let x1 = x[o];
  let x2 = x[o + p.half];
  x[o] = x1 * c - x2 * s;
  x[o + p.half] = x2 * c + x1 * s;
}
