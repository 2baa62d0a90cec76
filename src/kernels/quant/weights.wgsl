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
  return (w_half(o) * Q8_UNIT) * i8x4(w_word2(o + 2u + (k & 31u)));
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
  return (w_half(o) * Q4_UNIT) * nib_lo(w_word2(o + 2u + (j & 15u)) >> select(0u, 4u, j >= 16u));
}
#endif

// Block-walking helpers for kernels that read whole 32-element blocks (matmul, output head): the scale is read
// once per block and the quants as whole words. The walk, in every such kernel:
//   let bl = blocks(first byte of four rows' block b, i.e. (row * (K / 32) + b) * BLOCK_BYTES);
//   var prev = bl.first;
//   for (var j = 0u; j < BLOCK_WORDS; j++) { let bw = block_words(bl, prev, j); prev = bw.raw; ... bw.q ... }
//   (sums of x · the quants of bw.q, then times bl.d once per block)
// q8_0: word j holds columns 4j .. 4j+3 of the block (i8x4). q4_0: word j holds columns 4j .. 4j+3 in its low
// nibbles (nib_lo) and 16+4j .. 16+4j+3 in its high ones (nib_hi).
#if W_Q8_0
const BLOCK_BYTES = 34u;  // f16 scale, 32 int8
const BLOCK_WORDS = 8u;   // words of quants per block
#elif W_Q4_0
const BLOCK_BYTES = 18u;  // f16 scale, 16 bytes of nibble pairs
const BLOCK_WORDS = 4u;
#endif

// Dequantization without shifts in the hot loops. WGSL shifts are slow on SwiftShader (SSE has no per-lane
// shift, and it seems to emit one per lane): the shifting version took ~2x as long for the whole q8_0 matvec.
// A multiply (pmulld) and a mask do it instead: the byte or nibble is moved to the top of the word and converted
// as a signed int, which gives its value times 2^24 (bytes) or 2^28 (nibbles), exactly.
// Callers fold Q8_UNIT / Q4_UNIT into the block's scale: a power of two, so every product and sum rounds as it
// would with the unscaled values (bit-identical results), as long as |x| stays below ~1e29 (f32 overflow).
const Q8_UNIT = 5.9604644775390625e-8;   // 2^-24
const Q4_UNIT = 3.7252902984619140625e-9;  // 2^-28
const TOP8 = 0xff000000u;
const TOP4 = 0xf0000000u;

// int8 lanes of a word, times 2^24.
fn i8x4(q: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(q * 0x1000000u, (q * 0x10000u) & TOP8, (q * 0x100u) & TOP8, q & TOP8)));
}

// The low or the high nibbles of a word's four bytes, recentred on 8, times 2^28: m is NIB_LO_M or NIB_HI_M, which
// move each byte's nibble to the top. Flipping each nibble's top bit makes it the 4-bit two's complement of
// (nibble - 8).
const NIB_LO_M = vec4<u32>(0x10000000u, 0x100000u, 0x1000u, 0x10u);
const NIB_HI_M = vec4<u32>(0x1000000u, 0x10000u, 0x100u, 1u);
fn nib_m(q: u32, m: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>((vec4<u32>(q ^ 0x88888888u) * m) & vec4<u32>(TOP4)));
}
fn nib_lo(q: u32) -> vec4<f32> {
  return nib_m(q, NIB_LO_M);
}
fn nib_hi(q: u32) -> vec4<f32> {
  return nib_m(q, NIB_HI_M);
}

// Loads the first word of four rows' blocks, and the f16 scales they start with. A block's quants start at
// byte 2: word-aligned when the block itself starts at a half-word (a = true), else straddling two words.
// d: the scales times Q8_UNIT or Q4_UNIT, for i8x4 / nib_lo / nib_hi.
struct Blocks { i0: vec4<u32>, a: vec4<bool>, first: vec4<u32>, d: vec4<f32> }
fn blocks(o: vec4<u32>) -> Blocks {
  let i0 = o >> vec4<u32>(2u);
  let a = (o & vec4<u32>(2u)) != vec4<u32>(0u);
  let first = vec4<u32>(w[i0.x], w[i0.y], w[i0.z], w[i0.w]);
  let h0 = unpack2x16float(first.x);
  let h1 = unpack2x16float(first.y);
  let h2 = unpack2x16float(first.z);
  let h3 = unpack2x16float(first.w);
#if W_Q8_0
  let unit = Q8_UNIT;
#else
  let unit = Q4_UNIT;
#endif
  let d = select(vec4<f32>(h0.x, h1.x, h2.x, h3.x), vec4<f32>(h0.y, h1.y, h2.y, h3.y), a) * unit;
  return Blocks(i0, a, first, d);
}

// Word j + 1 of four rows' blocks (j = 0, 1, ...): the raw words (the next call's `prev`) and the quants they
// hold, realigned with the previous words where a block starts mid-word.
struct BlockWords { raw: vec4<u32>, q: vec4<u32> }
fn block_words(bl: Blocks, prev: vec4<u32>, j: u32) -> BlockWords {
  let i = bl.i0 + vec4<u32>(j + 1u);
  let nw = vec4<u32>(w[i.x], w[i.y], w[i.z], w[i.w]);
  return BlockWords(nw, select((prev >> vec4<u32>(16u)) | (nw * vec4<u32>(0x10000u)), nw, bl.a));
}

// Eight consecutive weights of row n from column k0 (k0 % 8 == 0, k0 + 8 <= K), for the backward tile. Quantized
// types read the block's scale once and the quants as 2-3 whole words, instead of two w_load4 calls.
struct W8 { a: vec4<f32>, b: vec4<f32> }
fn w_load8(n: u32, k0: u32, K: u32) -> W8 {
#if W_QUANT
#if W_Q8_0
  let o = (n * (K >> 5u) + (k0 >> 5u)) * BLOCK_BYTES;
  let s = o + 2u + (k0 & 31u);
#else
  let o = (n * (K >> 5u) + (k0 >> 5u)) * BLOCK_BYTES;
  let s = o + 2u + (k0 & 15u);
  let m = select(NIB_LO_M, NIB_HI_M, (k0 & 16u) != 0u);  // elements 16..31 are the high nibbles
#endif
  let h = unpack2x16float(w[o >> 2u]);
#if W_Q8_0
  let d = select(h.x, h.y, (o & 2u) != 0u) * Q8_UNIT;
#else
  let d = select(h.x, h.y, (o & 2u) != 0u) * Q4_UNIT;
#endif
  let i = s >> 2u;
  let w0 = w[i];
  let w1 = w[i + 1u];
  let w2 = w[min(i + 2u, arrayLength(&w) - 1u)];
  let al = (s & 2u) == 0u;
  let qa = select((w0 >> 16u) | (w1 * 0x10000u), w0, al);
  let qb = select((w1 >> 16u) | (w2 * 0x10000u), w1, al);
#if W_Q8_0
  return W8(d * i8x4(qa), d * i8x4(qb));
#else
  return W8(d * nib_m(qa, m), d * nib_m(qb, m));
#endif
#else
  return W8(w_load4(n, k0, K), w_load4(n, k0 + 4u, K));
#endif
}
#if HF

// Dequantization to `hf`, for kernels that hold dequantized weights as hf (the shared matmul). The kernel's
// generator declares `alias hf = f16;` (under `enable f16;`, where the device has shader-f16) or `alias hf = f32;`;
// these lines are the same text either way. Quants are small integers, exact in f16, and the block scale is an f16
// already: the one f16 operation is the product q·d, rounded to f16 (relative error <= 2^-11 per weight, as
// llama.cpp's GPU dequantize-to-half). With hf = f32 that product is exact (<= 8 x 11 significant bits), so the
// f32 instantiation equals w_load4 bit for bit. f16 weights convert exactly; f32 weights only ever take hf = f32.
fn w_get_h(row: u32, k: u32, K: u32) -> hf {
  return hf(w_get(row, k, K));
}
#if W_Q8_0
fn w_load4_h(row: u32, k: u32, K: u32) -> vec4<hf> {
  let o = (row * (K >> 5u) + (k >> 5u)) * 34u;
  return hf(w_half(o)) * vec4<hf>(i8x4(w_word2(o + 2u + (k & 31u))) * Q8_UNIT);
}
#elif W_Q4_0
fn w_load4_h(row: u32, k: u32, K: u32) -> vec4<hf> {
  let o = (row * (K >> 5u) + (k >> 5u)) * 18u;
  let j = k & 31u;
  return hf(w_half(o)) * vec4<hf>(nib_lo(w_word2(o + 2u + (j & 15u)) >> select(0u, 4u, j >= 16u)) * Q4_UNIT);
}
#else
fn w_load4_h(row: u32, k: u32, K: u32) -> vec4<hf> {
  return vec4<hf>(w_load4(row, k, K));
}
#endif
#endif
