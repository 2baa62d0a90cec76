// GeGLU (Gemma's MLP gate): y = gelu_tanh(g) * u, elementwise over N = (B*T) * F elements, with
// gelu_tanh(g) = 0.5 g (1 + tanh(k)), k = √(2/π) (g + 0.044715 g³)  (PyTorch's gelu(approximate='tanh')).
// backward: dg = dy * u * gelu'(g), gelu'(g) = 0.5 (1 + t) + 0.5 g (1 − t²) √(2/π) (1 + 3·0.044715 g²),
// Its layout mirrors swiglu.wgsl line for line on purpose: one op per kernel folder (docs/kernel-conventions.md),
// each with its own reference and test; only the activation differs.
//           du = dy * gelu_tanh(g), with t = tanh(k).

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;

const S2PI: f32 = 0.7978845608028654; // √(2/π)
const A: f32 = 0.044715;

// 0.5 (1 + tanh(k)) computed as sigmoid(2k): for very negative g, 1 + tanh(k) cancels to a few bits in f32
// (measured: dg off by 40% at g ≈ −4), the sigmoid does not. k is clamped so exp never overflows.
fn half_1p_tanh(k: f32) -> f32 {
  return 1.0 / (1.0 + exp(-2.0 * clamp(k, -30.0, 30.0)));
}

#if FORWARD
@group(0) @binding(1) var<storage, read_write> y: array<f32>;   // (N) f32
@group(0) @binding(2) var<storage, read> g: array<f32>;         // (N) f32 gate
@group(0) @binding(3) var<storage, read> u: array<f32>;         // (N) f32 up

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let gv = g[i];
  y[i] = gv * half_1p_tanh(S2PI * (gv + A * gv * gv * gv)) * u[i];
}
#else
@group(0) @binding(1) var<storage, read_write> dg: array<f32>;  // (N) f32
@group(0) @binding(2) var<storage, read_write> du: array<f32>;  // (N) f32
@group(0) @binding(3) var<storage, read> dy: array<f32>;        // (N) f32
@group(0) @binding(4) var<storage, read> g: array<f32>;         // (N) f32
@group(0) @binding(5) var<storage, read> u: array<f32>;         // (N) f32

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let gv = g[i];
  let s = half_1p_tanh(S2PI * (gv + A * gv * gv * gv));
  let d = dy[i];
  // 0.5 (1 − t²) = 2 s (1 − s)
  let dgelu = s + gv * 2.0 * s * (1.0 - s) * S2PI * (1.0 + 3.0 * A * gv * gv);
  dg[i] = d * u[i] * dgelu;
  du[i] = d * gv * s;
}
#endif
