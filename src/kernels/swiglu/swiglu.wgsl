// SwiGLU: y = silu(g) * u, silu(g) = g * sigmoid(g). N = (B*T) * F elements, elementwise.
// backward: dg = dy * u * s * (1 + g * (1 - s)),  du = dy * silu(g),  with s = sigmoid(g).

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;

#if FORWARD
@group(0) @binding(1) var<storage, read_write> y: array<f32>;   // (N) f32
@group(0) @binding(2) var<storage, read> g: array<f32>;         // (N) f32 gate
@group(0) @binding(3) var<storage, read> u: array<f32>;         // (N) f32 up

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let gv = g[i];
  y[i] = gv / (1.0 + exp(-gv)) * u[i];
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
  let s = 1.0 / (1.0 + exp(-gv));
  let d = dy[i];
  dg[i] = d * u[i] * s * (1.0 + gv * (1.0 - s));
  du[i] = d * gv * s;
}
#endif
