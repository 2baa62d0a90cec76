// Weight loaders shared by every kernel that reads a base weight (matmul, embedding, output head).
// Joined in front of a kernel by weightLoader(type) in weights.ts. The kernel declares the weight binding as
//   @group(0) @binding(N) var<storage, read> w: array<u32>;
// and rows are K elements long (K a multiple of 32 for q8_0/q4_0, even for f16, a multiple of 4 for w_load4).
// Dequantization happens here, in registers: a weight is never expanded in memory.

fn w_byte(o: u32) -> u32 {
  return (w[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu;
}

// f16 stored at an even byte offset.
fn w_half(o: u32) -> f32 {
  return unpack2x16float(w[o >> 2u] >> ((o & 2u) * 8u)).x;
}

// Four bytes starting at an even byte offset, as one little-endian word. Branch-free: neighbouring lanes often
// disagree on the alignment (34- and 18-byte blocks), and a CPU rasterizer would run both sides of an if.
// The second word is clamped so that an aligned read of the buffer's last word stays in bounds.
fn w_word2(o: u32) -> u32 {
  let i = o >> 2u;
  let lo = w[i];
  let hi = w[min(i + 1u, arrayLength(&w) - 1u)];
  return select((lo >> 16u) | (hi << 16u), lo, (o & 2u) == 0u);
}

#if W_F32
fn w_get(row: u32, k: u32, K: u32) -> f32 {
  return bitcast<f32>(w[row * K + k]);
}
fn w_load4(row: u32, k: u32, K: u32) -> vec4<f32> {
  let i = row * K + k;
  return vec4<f32>(bitcast<f32>(w[i]), bitcast<f32>(w[i + 1u]), bitcast<f32>(w[i + 2u]), bitcast<f32>(w[i + 3u]));
}
#elif W_F16
fn w_get(row: u32, k: u32, K: u32) -> f32 {
  let i = row * K + k;
  return unpack2x16float(w[i >> 1u])[i & 1u];
}
fn w_load4(row: u32, k: u32, K: u32) -> vec4<f32> {
  let i = (row * K + k) >> 1u;
  return vec4<f32>(unpack2x16float(w[i]), unpack2x16float(w[i + 1u]));
}
#elif W_Q8_0
fn w_get(row: u32, k: u32, K: u32) -> f32 {
  let o = (row * (K >> 5u) + (k >> 5u)) * 34u;
  let q = i32(w_byte(o + 2u + (k & 31u)));
  return w_half(o) * f32(extractBits(q, 0u, 8u));
}
fn w_load4(row: u32, k: u32, K: u32) -> vec4<f32> {
  let o = (row * (K >> 5u) + (k >> 5u)) * 34u;
  let q = bitcast<i32>(w_word2(o + 2u + (k & 31u)));
  let v = vec4<i32>(extractBits(q, 0u, 8u), extractBits(q, 8u, 8u), extractBits(q, 16u, 8u), extractBits(q, 24u, 8u));
  return w_half(o) * vec4<f32>(v);
}
#elif W_Q4_0
fn w_get(row: u32, k: u32, K: u32) -> f32 {
  let o = (row * (K >> 5u) + (k >> 5u)) * 18u;
  let j = k & 31u;
  let b = w_byte(o + 2u + (j & 15u));
  let q = select(b & 15u, b >> 4u, j >= 16u);
  return w_half(o) * (f32(q) - 8.0);
}
fn w_load4(row: u32, k: u32, K: u32) -> vec4<f32> {
  let o = (row * (K >> 5u) + (k >> 5u)) * 18u;
  let j = k & 31u;
  let word = w_word2(o + 2u + (j & 15u)) >> select(0u, 4u, j >= 16u);
  let q = vec4<u32>(word & 15u, (word >> 8u) & 15u, (word >> 16u) & 15u, (word >> 24u) & 15u);
  return w_half(o) * (vec4<f32>(q) - 8.0);
}
#endif
