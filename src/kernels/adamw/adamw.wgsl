// AdamW in place, one thread per parameter, in torch.optim.AdamW's order and rounding (single-tensor path):
//   p *= 1 − lr·wd;  m.lerp_(g, 1 − β1);  v = v·β2 + (1 − β2)·g²;
//   p += −(lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)
// The scalars (1 − lr·wd, lr / bc1, sqrt(bc2)) come from the host in float64, rounded once to f32, as torch does.

struct Params { n: u32, decay: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;  // (n) f32
@group(0) @binding(2) var<storage, read_write> m: array<f32>;      // (n) f32 first moment
@group(0) @binding(3) var<storage, read_write> v: array<f32>;      // (n) f32 second moment
@group(0) @binding(4) var<storage, read> grad: array<f32>;         // (n) f32
#if SCALED
@group(0) @binding(5) var<storage, read> gradScale: array<f32>;    // (1) f32, e.g. the clip coefficient
#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
#if SCALED
  let g = grad[i] * gradScale[0];
#else
  let g = grad[i];
#endif
  let pd = param[i] * p.decay;
  // torch's lerp for weight < 0.5: start + weight·(end − start).
  let mi = m[i] + p.oneMinusB1 * (g - m[i]);
  let vi = v[i] * p.b2 + p.oneMinusB2 * (g * g);
  let denom = sqrt(vi) / p.bc2Sqrt + p.eps;
  param[i] = pd + (-p.stepSize) * (mi / denom);
  m[i] = mi;
  v[i] = vi;
}
