// y = alpha · x, or y += alpha · x with ACCUM, elementwise over N elements: Gemma's embedding scale (√C) and
// the residual adds after its post-attention and post-feed-forward norms. y must not alias x.
// Its entry point (bounds check over N, one element per thread) mirrors swiglu.wgsl and geglu.wgsl on purpose: one elementwise op per kernel folder, no shared WGSL include.

struct Params { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;   // (N) f32
@group(0) @binding(2) var<storage, read> x: array<f32>;         // (N) f32

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
#if ACCUM
  y[i] = y[i] + p.alpha * x[i];
#else
  y[i] = p.alpha * x[i];
#endif
}
