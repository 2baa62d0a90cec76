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
  return w_half(o) * i8x4(w_word2(o + 2u + (k & 31u)));
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
  return w_half(o) * nib_lo(w_word2(o + 2u + (j & 15u)) >> select(0u, 4u, j >= 16u));
}
#endif

// Block-walking helpers for kernels that read whole 32-element blocks (matmul, output head): the scale is read
// once per block and the quants as whole words.

// int8 lanes of a word, sign-extended.
fn i8x4(q: u32) -> vec4<f32> {
  let v = vec4<i32>(bitcast<i32>(q)) << vec4<u32>(24u, 16u, 8u, 0u);
  return vec4<f32>(v >> vec4<u32>(24u));
}

// The low and the high nibbles of a word's four bytes, recentred on 8.
fn nib_lo(q: u32) -> vec4<f32> {
  return vec4<f32>((vec4<u32>(q) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(15u)) - 8.0;
}
fn nib_hi(q: u32) -> vec4<f32> {
  return vec4<f32>((vec4<u32>(q) >> vec4<u32>(4u, 12u, 20u, 28u)) & vec4<u32>(15u)) - 8.0;
}

// Loads the first word of four rows' blocks, and the f16 scales they start with. A block's quants start at
// byte 2: word-aligned when the block itself starts at a half-word (a = true), else straddling two words.
struct Blocks { i0: vec4<u32>, a: vec4<bool>, first: vec4<u32>, d: vec4<f32> }
fn blocks(o: vec4<u32>) -> Blocks {
  let i0 = o >> vec4<u32>(2u);
  let a = (o & vec4<u32>(2u)) != vec4<u32>(0u);
  let first = vec4<u32>(w[i0.x], w[i0.y], w[i0.z], w[i0.w]);
  let hv = first >> select(vec4<u32>(0u), vec4<u32>(16u), a);
  let d = vec4<f32>(unpack2x16float(hv.x).x, unpack2x16float(hv.y).x, unpack2x16float(hv.z).x, unpack2x16float(hv.w).x);
  return Blocks(i0, a, first, d);
}

// Word j + 1 of four rows' blocks (j = 0, 1, ...): the raw words (the next call's `prev`) and the quants they
// hold, realigned with the previous words where a block starts mid-word.
struct BlockWords { raw: vec4<u32>, q: vec4<u32> }
fn block_words(bl: Blocks, prev: vec4<u32>, j: u32) -> BlockWords {
  let i = bl.i0 + vec4<u32>(j + 1u);
  let nw = vec4<u32>(w[i.x], w[i.y], w[i.z], w[i.w]);
  return BlockWords(nw, select((prev >> vec4<u32>(16u)) | (nw << vec4<u32>(16u)), nw, bl.a));
}

// Eight consecutive weights of row n from column k0 (k0 % 8 == 0, k0 + 8 <= K), for the backward tile. Quantized
// types read the block's scale once and the quants as 2-3 whole words, instead of two w_load4 calls.
struct W8 { a: vec4<f32>, b: vec4<f32> }
fn w_load8(n: u32, k0: u32, K: u32) -> W8 {
#if W_QUANT
#if W_Q8_0
  let o = (n * (K >> 5u) + (k0 >> 5u)) * 34u;
  let s = o + 2u + (k0 & 31u);
  let sh = 0u;
#else
  let o = (n * (K >> 5u) + (k0 >> 5u)) * 18u;
  let s = o + 2u + (k0 & 15u);
  let sh = select(0u, 4u, (k0 & 16u) != 0u);  // elements 16..31 are the high nibbles
#endif
  let d = unpack2x16float(w[o >> 2u] >> ((o & 2u) * 8u)).x;
  let i = s >> 2u;
  let w0 = w[i];
  let w1 = w[i + 1u];
  let w2 = w[min(i + 2u, arrayLength(&w) - 1u)];
  let al = (s & 2u) == 0u;
  let qa = select((w0 >> 16u) | (w1 << 16u), w0, al) >> sh;
  let qb = select((w1 >> 16u) | (w2 << 16u), w1, al) >> sh;
#if W_Q8_0
  return W8(d * i8x4(qa), d * i8x4(qb));
#else
  return W8(d * nib_lo(qa), d * nib_lo(qb));
#endif
#else
  return W8(w_load4(n, k0, K), w_load4(n, k0 + 4u, K));
#endif
}
