// Quantization on the GPU, bit-identical to ggml's reference (formats.ts quantizeQ8_0 / quantizeQ4_0 are the truth)
// on any GPU. WGSL guarantees correctly rounded f32 +, -, * but not /, and lets drivers fuse x*y+z, so:
//   - d = amax/127 and id = 1/d are computed by exact integer long division, rounded to nearest even;
//   - products that are rounded on their own in ggml pass through an opaque XOR with p.zero (always 0), which no
//     compiler can see through, so they are never contracted into an fma;
//   - f32 <-> f16 conversions are integer code (round to nearest even), never pack2x16float.
// Inputs whose f32 values or scales are subnormal (|x| < 2^-126 * 127) are outside what this reproduces; real
// weights never come near.
// Source: (n) elements in SRC_F32 / SRC_F16 / SRC_BF16 packed in u32 words. Output: the encoded bytes as words;
// every invocation writes whole words of its own (two blocks of 34 or 18 bytes are 17 or 9 words), so none race.

struct Params {
  n: u32,        // elements
  outWord0: u32, // first output word (a chunk's place inside a weight part)
  zero: u32,     // always 0: the contraction barrier
  pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;  // encoded output
@group(0) @binding(2) var<storage, read> src: array<u32>;        // (n) source elements, packed

fn f16_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0x1fu) { return bitcast<f32>(sign | 0x7f800000u | (m << 13u)); }
  if (e != 0u) { return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u)); }
  if (m == 0u) { return bitcast<f32>(sign); }
  // Subnormal half: normalise the mantissa (exact in f32).
  let lead = firstLeadingBit(m);  // 0..9
  let mm = (m << (10u - lead)) & 0x3ffu;
  return bitcast<f32>(sign | ((lead + 103u) << 23u) | (mm << 13u));
}

fn load(i: u32) -> f32 {
#if SRC_F32
  return bitcast<f32>(src[i]);
#elif SRC_F16
  return f16_to_f32((src[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu);
#else
  return bitcast<f32>(((src[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu) << 16u);
#endif
}

// IEEE binary16 bits of an f32, round to nearest even (formats.ts f32ToF16Bits).
fn f32_to_f16(v: f32) -> u32 {
  let x = bitcast<u32>(v);
  let sign = (x >> 16u) & 0x8000u;
  let ex = (x >> 23u) & 0xffu;
  var mant = x & 0x7fffffu;
  if (ex == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u); }
  let e = i32(ex) - 112;
  if (e >= 0x1f) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant |= 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var h = mant >> shift;
    if (rest > half || (rest == half && (h & 1u) == 1u)) { h += 1u; }
    return sign | h;
  }
  let rest = mant & 0x1fffu;
  var h = (u32(e) << 10u) | (mant >> 13u);
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)) { h += 1u; }
  return sign | h;
}

// a / b correctly rounded (nearest even) for positive normal a, b with a normal quotient.
fn div_rn(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  let mb = (ub & 0x7fffffu) | 0x800000u;
  var rem = (ua & 0x7fffffu) | 0x800000u;
  var e = i32((ua >> 23u) & 0xffu) - i32((ub >> 23u) & 0xffu) + 127;
  if (rem < mb) {
    rem <<= 1u;
    e -= 1;
  }
  // rem / mb in [1, 2): 24 quotient bits and a guard bit, the remainder is the sticky bit.
  var q = 0u;
  for (var i = 0u; i < 25u; i++) {
    let ge = rem >= mb;
    q = (q << 1u) | select(0u, 1u, ge);
    rem = select(rem, rem - mb, ge) << 1u;
  }
  let guard = q & 1u;
  q >>= 1u;
  if (guard == 1u && (rem != 0u || (q & 1u) == 1u)) { q += 1u; }
  if (q == 0x1000000u) {
    q = 0x800000u;
    e += 1;
  }
  return bitcast<f32>((u32(e) << 23u) | (q & 0x7fffffu));
}

// A product rounded on its own, hidden from contraction with whatever consumes it.
fn opaque(v: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(v) ^ p.zero);
}

// Writes `byte` at byte offset o of a local word buffer.
fn put8(buf: ptr<function, array<u32, 17>>, o: u32, byte: u32) {
  (*buf)[o >> 2u] |= (byte & 0xffu) << ((o & 3u) * 8u);
}

#if DST_Q8_0
// Block g (32 elements) into 34 bytes at byte offset o of buf.
fn block(buf: ptr<function, array<u32, 17>>, g: u32, o: u32) {
  let base = g * 32u;
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(load(base + j))); }
  var d = 0.0;
  var id = 0.0;
  if (amax != 0.0) {
    d = div_rn(amax, 127.0);
    id = div_rn(1.0, d);
  }
  let h = f32_to_f16(d);
  put8(buf, o, h);
  put8(buf, o + 1u, h >> 8u);
  for (var j = 0u; j < 32u; j++) {
    let v = opaque(load(base + j) * id);
    // roundf: half away from zero. |v| <= 127.x, so |v| - trunc(|v|) is exact.
    let a = abs(v);
    let t = trunc(a);
    let r = t + select(0.0, 1.0, a - t >= 0.5);
    let q = i32(r) * select(1, -1, v < 0.0);
    put8(buf, o + 2u + j, bitcast<u32>(q));
  }
}
#elif DST_Q4_0
fn block(buf: ptr<function, array<u32, 17>>, g: u32, o: u32) {
  let base = g * 32u;
  var amax = 0.0;
  var mx = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let v = load(base + j);
    if (amax < abs(v)) {
      amax = abs(v);
      mx = v;
    }
  }
  // mx / -8 is exact (a power of two) for normal results: a multiplication says so without a division.
  let d = mx * -0.125;
  var id = 0.0;
  if (d != 0.0) { id = sign(d) * div_rn(1.0, abs(d)); }
  let h = f32_to_f16(d);
  put8(buf, o, h);
  put8(buf, o + 1u, h >> 8u);
  for (var j = 0u; j < 16u; j++) {
    let x0 = opaque(load(base + j) * id);
    let x1 = opaque(load(base + 16u + j) * id);
    let q0 = min(15u, u32(trunc(x0 + 8.5)));
    let q1 = min(15u, u32(trunc(x1 + 8.5)));
    put8(buf, o + 2u + j, q0 | (q1 << 4u));
  }
}
#endif

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
#if DST_F32
  if (i >= p.n) { return; }
  dst[p.outWord0 + i] = bitcast<u32>(load(i));
#elif DST_F16
  // One word: elements 2i and 2i + 1.
  if (2u * i >= p.n) { return; }
  var word = f32_to_f16(load(2u * i));
  if (2u * i + 1u < p.n) { word |= f32_to_f16(load(2u * i + 1u)) << 16u; }
  dst[p.outWord0 + i] = word;
#else
  // Blocks 2i and 2i + 1: 68 (q8_0) or 36 (q4_0) bytes, a whole number of words.
  let nblocks = p.n / 32u;
  if (2u * i >= nblocks) { return; }
#if DST_Q8_0
  let bytes = 34u;
#else
  let bytes = 18u;
#endif
  var buf: array<u32, 17>;
  block(&buf, 2u * i, 0u);
  var words = (bytes + 3u) / 4u;  // a lone last block: its final word's padding bytes belong to no block
  if (2u * i + 1u < nblocks) {
    block(&buf, 2u * i + 1u, bytes);
    words = bytes / 2u;
  }
  let o = p.outWord0 + i * (bytes / 2u);
  for (var k = 0u; k < words; k++) { dst[o + k] = buf[k]; }
#endif
}
