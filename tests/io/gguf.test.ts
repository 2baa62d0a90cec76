import { describe, expect, it } from 'vitest';
import { encodeWeight, f32ToF16Bits, f16BitsToF32 } from '../../src/kernels/quant/formats.ts';
import { GgmlType, GgufValueType, ggufConfig, openGguf, readGgufTensor, ggufToHfName, hfToGgufName } from '../../src/io/gguf.ts';
import { writeGguf, type GgufEntry, type GgufTensorToWrite } from '../../src/io/gguf-writer.ts';
import { memorySource } from '../../src/io/source.ts';
import { Rng } from '../../src/util/rng.ts';
import { countingSource, rejects } from './helpers.ts';

const f32 = (d: Uint8Array) => new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));

/** Q4_K blocks packed as quantize_row_q4_K_ref lays them out, from chosen 6-bit scales/mins and 4-bit quants. */
function packQ4K(d: number, dmin: number, sc: number[], mn: number[], q: number[]): Uint8Array {
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, f32ToF16Bits(d), true);
  dv.setUint16(2, f32ToF16Bits(dmin), true);
  const s = b.subarray(4, 16);
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      s[j] = sc[j];
      s[j + 4] = mn[j];
    } else {
      s[j + 4] = (sc[j] & 0xf) | ((mn[j] & 0xf) << 4);
      s[j - 4] |= (sc[j] >> 4) << 6;
      s[j] |= (mn[j] >> 4) << 6;
    }
  }
  // element e: sub-block j = e/32; pairs of sub-blocks share 32 bytes, even j in the low nibbles
  for (let e = 0; e < 256; e++) {
    const j = e >> 5;
    const byte = 16 + (j >> 1) * 32 + (e & 31);
    b[byte] |= j & 1 ? q[e] << 4 : q[e];
  }
  return b;
}

/** Q6_K blocks from chosen 8-bit scales (16 sub-blocks of 16) and 6-bit quants. */
function packQ6K(d: number, sc: number[], q: number[]): Uint8Array {
  const b = new Uint8Array(210);
  const dv = new DataView(b.buffer);
  for (let e = 0; e < 256; e++) {
    const n = e >> 7; // half
    const g = (e & 127) >> 5; // which of the four 32-runs in this half
    const l = e & 31;
    const ql = n * 64 + l + (g & 1) * 32;
    b[ql] |= g < 2 ? q[e] & 0xf : (q[e] & 0xf) << 4;
    b[128 + n * 32 + l] |= (q[e] >> 4) << (2 * g);
  }
  for (let i = 0; i < 16; i++) dv.setInt8(192 + i, sc[i]);
  dv.setUint16(208, f32ToF16Bits(d), true);
  return b;
}

function q4kExpected(d: number, dmin: number, sc: number[], mn: number[], q: number[]): number[] {
  const D = f16BitsToF32(f32ToF16Bits(d));
  const M = f16BitsToF32(f32ToF16Bits(dmin));
  return q.map((v, e) => Math.fround(Math.fround(Math.fround(D * sc[e >> 5]) * v) - Math.fround(M * mn[e >> 5])));
}

function q6kExpected(d: number, sc: number[], q: number[]): number[] {
  const D = f16BitsToF32(f32ToF16Bits(d));
  return q.map((v, e) => {
    const n = e >> 7;
    const g = (e & 127) >> 5;
    const l = e & 31;
    return Math.fround(Math.fround(D * sc[n * 8 + (l >> 4) + 2 * g]) * (v - 32));
  });
}

/** convert_hf_to_gguf's permute(), written as its reshape: (heads, 2, D/2, K) → swap axes 1,2 → rows. */
function hfPermute(rows: Float32Array[], heads: number): Float32Array[] {
  const D = rows.length / heads;
  const out: Float32Array[] = [];
  for (let h = 0; h < heads; h++) for (let i = 0; i < D / 2; i++) for (let two = 0; two < 2; two++) out.push(rows[h * D + two * (D / 2) + i]);
  return out;
}

const ALL_VALUES: GgufEntry[] = [
  { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
  { key: 't.u8', type: GgufValueType.UINT8, value: 200 },
  { key: 't.i8', type: GgufValueType.INT8, value: -100 },
  { key: 't.u16', type: GgufValueType.UINT16, value: 60000 },
  { key: 't.i16', type: GgufValueType.INT16, value: -30000 },
  { key: 't.u32', type: GgufValueType.UINT32, value: 4000000000 },
  { key: 't.i32', type: GgufValueType.INT32, value: -2000000000 },
  { key: 't.f32', type: GgufValueType.FLOAT32, value: 0.5 },
  { key: 't.bool', type: GgufValueType.BOOL, value: true },
  { key: 't.u64', type: GgufValueType.UINT64, value: 2n ** 60n },
  { key: 't.i64', type: GgufValueType.INT64, value: -5 },
  { key: 't.f64', type: GgufValueType.FLOAT64, value: 1e-300 },
  { key: 't.str', type: GgufValueType.STRING, value: 'héllo ✓' },
  { key: 't.arr', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: ['a', '', 'ß'] },
  { key: 't.arr_f', type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: [1.5, -2] },
  { key: 't.arr_empty', type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: [] },
];

const LLAMA_META = (H: number, Hkv: number): GgufEntry[] => [
  { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
  { key: 'llama.embedding_length', type: GgufValueType.UINT32, value: 64 },
  { key: 'llama.feed_forward_length', type: GgufValueType.UINT32, value: 128 },
  { key: 'llama.block_count', type: GgufValueType.UINT32, value: 1 },
  { key: 'llama.attention.head_count', type: GgufValueType.UINT32, value: H },
  { key: 'llama.attention.head_count_kv', type: GgufValueType.UINT32, value: Hkv },
  { key: 'llama.attention.layer_norm_rms_epsilon', type: GgufValueType.FLOAT32, value: 1e-5 },
  { key: 'llama.rope.freq_base', type: GgufValueType.FLOAT32, value: 500000 },
  { key: 'llama.context_length', type: GgufValueType.UINT32, value: 4096 },
  { key: 'tokenizer.ggml.bos_token_id', type: GgufValueType.UINT32, value: 1 },
  { key: 'tokenizer.ggml.eos_token_id', type: GgufValueType.UINT32, value: 2 },
];

describe('gguf', () => {
  it('reads metadata of every value type', async () => {
    for (const version of [2, 3] as const) {
      const g = await openGguf(memorySource(writeGguf(ALL_VALUES, [], { version }), 'm.gguf'));
      expect(g.version).toBe(version);
      const got = Object.fromEntries(g.metadata);
      expect(got['t.u8']).toBe(200);
      expect(got['t.i8']).toBe(-100);
      expect(got['t.u16']).toBe(60000);
      expect(got['t.i16']).toBe(-30000);
      expect(got['t.u32']).toBe(4000000000);
      expect(got['t.i32']).toBe(-2000000000);
      expect(got['t.f32']).toBe(0.5);
      expect(got['t.bool']).toBe(true);
      expect(got['t.u64']).toBe(2n ** 60n);
      expect(got['t.i64']).toBe(-5);
      expect(got['t.f64']).toBe(1e-300);
      expect(got['t.str']).toBe('héllo ✓');
      expect(got['t.arr']).toEqual(['a', '', 'ß']);
      expect(got['t.arr_f']).toEqual([1.5, -2]);
      expect(got['t.arr_empty']).toEqual([]);
    }
  });

  it('reads each supported tensor type: raw bytes for ours, f32 for BF16 and k-quants', async () => {
    const rng = new Rng(5);
    const K = 256;
    const x = rng.randn(2 * K);
    const bf = Uint16Array.from([0x3f80, 0xc040, 0x0000, 0x7f80]);
    const sc = Array.from({ length: 8 }, () => rng.int(64));
    const mn = Array.from({ length: 8 }, () => rng.int(64));
    const q4 = Array.from({ length: 256 }, () => rng.int(16));
    const sc6 = Array.from({ length: 16 }, () => rng.int(256) - 128);
    const q6 = Array.from({ length: 256 }, () => rng.int(64));
    const tensors: GgufTensorToWrite[] = [
      { name: 'a.f32', type: GgmlType.F32, dims: [K, 2], data: encodeWeight('f32', x, 2, K) },
      { name: 'a.f16', type: GgmlType.F16, dims: [K, 2], data: encodeWeight('f16', x, 2, K) },
      { name: 'a.q8_0', type: GgmlType.Q8_0, dims: [K, 2], data: encodeWeight('q8_0', x, 2, K) },
      { name: 'a.q4_0', type: GgmlType.Q4_0, dims: [K, 2], data: encodeWeight('q4_0', x, 2, K) },
      { name: 'a.bf16', type: GgmlType.BF16, dims: [4], data: new Uint8Array(bf.buffer) },
      { name: 'a.q4_k', type: GgmlType.Q4_K, dims: [256], data: packQ4K(0.013, 0.0071, sc, mn, q4) },
      { name: 'a.q6_k', type: GgmlType.Q6_K, dims: [256], data: packQ6K(0.0042, sc6, q6) },
    ];
    const file = writeGguf([{ key: 'general.architecture', type: GgufValueType.STRING, value: 'qwen2' }], tensors);
    const g = await openGguf(memorySource(file, 'm.gguf'));
    for (const t of tensors.slice(0, 4)) {
      const r = await readGgufTensor(g, t.name);
      expect(r.type).toBe(t.name.slice(2));
      expect(r.shape).toEqual([2, K]);
      expect(r.data).toEqual(t.data);
      expect(g.tensors.get(t.name)!.byteOffset % 32).toBe(0);
    }
    const b = await readGgufTensor(g, 'a.bf16');
    expect([b.type, ...f32(b.data)]).toEqual(['f32', 1, -3, 0, Infinity]);
    const k4 = await readGgufTensor(g, 'a.q4_k');
    expect(k4.type).toBe('f32');
    expect([...f32(k4.data)]).toEqual(q4kExpected(0.013, 0.0071, sc, mn, q4));
    const k6 = await readGgufTensor(g, 'a.q6_k');
    expect([...f32(k6.data)]).toEqual(q6kExpected(0.0042, sc6, q6));
  });

  it('maps llama names to HF, builds the config and undoes the Q/K row permutation (also on quantized rows)', async () => {
    const H = 4, Hkv = 2, C = 64, D = 16;
    const rng = new Rng(9);
    const rowsOf = (n: number) => Array.from({ length: n }, () => rng.randn(C));
    const q = rowsOf(H * D);
    const k = rowsOf(Hkv * D);
    const flat = (rows: Float32Array[]) => Float32Array.from(rows.flatMap((r) => [...r]));
    const kQ8 = encodeWeight('q8_0', flat(k), Hkv * D, C);
    const tensors: GgufTensorToWrite[] = [
      { name: 'token_embd.weight', type: GgmlType.F32, dims: [C, 10], data: encodeWeight('f32', rng.randn(10 * C), 10, C) },
      { name: 'blk.0.attn_q.weight', type: GgmlType.F32, dims: [C, H * D], data: encodeWeight('f32', flat(hfPermute(q, H)), H * D, C) },
      { name: 'blk.0.attn_k.weight', type: GgmlType.Q8_0, dims: [C, Hkv * D], data: encodeWeight('q8_0', flat(hfPermute(k, Hkv)), Hkv * D, C) },
      { name: 'blk.0.ffn_norm.weight', type: GgmlType.F32, dims: [C], data: encodeWeight('f32', rng.randn(C), 1, C) },
    ];
    const g = await openGguf(memorySource(writeGguf(LLAMA_META(H, Hkv), tensors), 'llama.gguf'));
    const rq = await readGgufTensor(g, 'blk.0.attn_q.weight');
    expect(rq.name).toBe('model.layers.0.self_attn.q_proj.weight');
    expect(f32(rq.data)).toEqual(flat(q));
    const rk = await readGgufTensor(g, 'model.layers.0.self_attn.k_proj.weight');
    expect(rk.type).toBe('q8_0');
    expect(rk.data).toEqual(kQ8); // rows moved as bytes: identical to quantizing the HF rows
    const raw = await readGgufTensor(g, 'blk.0.attn_q.weight', { raw: true });
    expect(f32(raw.data)).toEqual(flat(hfPermute(q, H)));
    expect((await readGgufTensor(g, 'blk.0.ffn_norm.weight')).name).toBe('model.layers.0.post_attention_layernorm.weight');
    const { config, ropeFreqsTensor } = ggufConfig(g);
    expect(config).toMatchObject({
      architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4,
      num_key_value_heads: 2, head_dim: 16, rms_norm_eps: Math.fround(1e-5), rope_theta: 500000, vocab_size: 10,
      max_position_embeddings: 4096, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2,
    });
    expect(ropeFreqsTensor).toBe(false);
    for (const [gg, hf] of [
      ['token_embd.weight', 'model.embed_tokens.weight'], ['output.weight', 'lm_head.weight'], ['output_norm.weight', 'model.norm.weight'],
      ['blk.3.attn_output.weight', 'model.layers.3.self_attn.o_proj.weight'], ['blk.1.ffn_gate.weight', 'model.layers.1.mlp.gate_proj.weight'],
      ['blk.1.ffn_up.weight', 'model.layers.1.mlp.up_proj.weight'], ['blk.1.ffn_down.weight', 'model.layers.1.mlp.down_proj.weight'],
      ['blk.0.attn_v.weight', 'model.layers.0.self_attn.v_proj.weight'], ['blk.2.attn_norm.weight', 'model.layers.2.input_layernorm.weight'],
      ['blk.0.attn_q.bias', 'model.layers.0.self_attn.q_proj.bias'],
    ]) {
      expect(ggufToHfName(gg)).toBe(hf);
      expect(hfToGgufName(hf)).toBe(gg);
    }
    expect(ggufToHfName('rope_freqs.weight')).toBeNull();
  });

  it('leaves qwen2 Q/K rows alone', async () => {
    const rows = new Rng(2).randn(32 * 32);
    const meta: GgufEntry[] = [{ key: 'general.architecture', type: GgufValueType.STRING, value: 'qwen2' }, { key: 'qwen2.attention.head_count', type: GgufValueType.UINT32, value: 2 }];
    const g = await openGguf(memorySource(writeGguf(meta, [{ name: 'blk.0.attn_q.weight', type: GgmlType.F32, dims: [32, 32], data: encodeWeight('f32', rows, 32, 32) }]), 'q.gguf'));
    expect(f32((await readGgufTensor(g, 'blk.0.attn_q.weight')).data)).toEqual(rows);
  });

  it('reads the header in chunks and one tensor at a time', async () => {
    const big = new Uint8Array(4 << 20);
    const file = writeGguf(ALL_VALUES, [
      { name: 'big', type: GgmlType.F32, dims: [big.length / 4], data: big },
      { name: 'small', type: GgmlType.F32, dims: [8], data: new Uint8Array(32) },
    ]);
    const src = countingSource(memorySource(file, 'm.gguf'));
    const g = await openGguf(src);
    const headerRead = src.bytesRead();
    await readGgufTensor(g, 'small');
    expect(src.bytesRead() - headerRead).toBe(32);
    expect(src.reads.every(([, n]) => n <= 1 << 20)).toBe(true);
  });

  it('refuses bad files quickly, naming the file and the tensor', async () => {
    const open = (b: Uint8Array) => rejects(openGguf(memorySource(b, 'bad.gguf')));
    const good = writeGguf(ALL_VALUES, [{ name: 'w', type: GgmlType.F32, dims: [8], data: new Uint8Array(32) }]);
    const bad = good.slice();
    bad[0] = 0x47 ^ 1;
    expect(await open(bad)).toMatch(/bad\.gguf: header: not a GGUF file/);
    const v1 = good.slice();
    new DataView(v1.buffer).setUint32(4, 1, true);
    expect(await open(v1)).toMatch(/bad\.gguf: header: GGUF version 1 is not supported/);
    // Every truncation of the header and data is an error, never a hang or a partial result.
    for (let n = 0; n < good.length; n += 7) expect(await open(good.subarray(0, n))).toMatch(/bad\.gguf/);
    const t0 = performance.now();
    const hugeTensors = good.slice();
    new DataView(hugeTensors.buffer).setBigUint64(8, 1n << 40n, true);
    expect(await open(hugeTensors)).toMatch(/bad\.gguf: header: 1099511627776 tensors cannot fit/);
    const hugeKv = good.slice();
    new DataView(hugeKv.buffer).setBigUint64(16, 1n << 62n, true);
    expect(await open(hugeKv)).toMatch(/bad\.gguf: header: .*(cannot fit|implausibly large)/);
    // An array claiming 2^50 entries, and a string claiming 2^50 bytes.
    const arr = writeGguf([{ key: 'x', type: GgufValueType.ARRAY, itemType: GgufValueType.UINT8, value: [1, 2] }], []);
    const arrAt = 24 + 8 + 1 + 4 + 4; // header, key length, "x", value type, item type
    new DataView(arr.buffer).setBigUint64(arrAt, 1n << 50n, true);
    expect(await open(arr)).toMatch(/bad\.gguf: metadata "x": array of 1125899906842624 items cannot fit/);
    const str = writeGguf([{ key: 'y', type: GgufValueType.STRING, value: 'abc' }], []);
    new DataView(str.buffer).setBigUint64(24 + 8 + 1 + 4, 1n << 50n, true);
    expect(await open(str)).toMatch(/bad\.gguf: metadata "y": string of 1125899906842624 bytes/);
    expect(performance.now() - t0).toBeLessThan(2000);

    // Tensor infos that lie: offsets past the end, misaligned, overlapping; unknown types; bad dims.
    const withTensor = (patch: (dv: DataView, infoAt: number) => void, tensors: GgufTensorToWrite[] = [{ name: 'w', type: GgmlType.F32, dims: [8], data: new Uint8Array(32) }]) => {
      const b = writeGguf([], tensors);
      patch(new DataView(b.buffer), 24);
      return open(b);
    };
    // tensor info layout: u64 name length, "w", u32 n_dims, u64 dims..., u32 type, u64 offset
    expect(await withTensor((dv, at) => dv.setBigUint64(at + 8 + 1 + 4 + 8 + 4, 4096n, true))).toMatch(/bad\.gguf: tensor "w": data .* runs past the end/);
    expect(await withTensor((dv, at) => dv.setBigUint64(at + 8 + 1 + 4 + 8 + 4, 4n, true))).toMatch(/tensor "w": data offset 4 is not aligned/);
    expect(await withTensor((dv, at) => dv.setUint32(at + 8 + 1 + 4 + 8, 99, true))).toMatch(/tensor "w": unknown ggml type 99/);
    expect(await withTensor((dv, at) => dv.setUint32(at + 8 + 1, 7, true))).toMatch(/tensor "w": 7 dimensions/);
    expect(await withTensor((dv, at) => dv.setBigUint64(at + 8 + 1 + 4, 1n << 52n, true))).toMatch(/tensor "w": .*larger than the file/);
    const two: GgufTensorToWrite[] = [
      { name: 'a', type: GgmlType.F32, dims: [16], data: new Uint8Array(64) },
      { name: 'b', type: GgmlType.F32, dims: [8], data: new Uint8Array(32) },
    ];
    // b's offset (second info: after a's 8+1+4+8+4+8 bytes) moved onto a's data
    expect(await withTensor((dv, at) => dv.setBigUint64(at + 33 + 8 + 1 + 4 + 8 + 4, 32n, true), two)).toMatch(/tensor "b": data overlaps tensor "a"/);
    const q4 = [{ name: 'q', type: GgmlType.Q4_0, dims: [32], data: new Uint8Array(18) }];
    expect(await withTensor((dv, at) => dv.setBigUint64(at + 8 + 1 + 4, 48n, true), q4)).toMatch(/tensor "q": row length 48 is not a multiple of the Q4_0 block size 32/);

    const unsupported = await openGguf(memorySource(writeGguf([], [{ name: 'k5', type: GgmlType.Q5_K, dims: [256], data: new Uint8Array(176) }]), 'u.gguf'));
    expect(await rejects(readGgufTensor(unsupported, 'k5'))).toMatch(/u\.gguf: tensor "k5": ggml type Q5_K is not supported/);
    expect(await rejects(readGgufTensor(unsupported, 'nope'))).toMatch(/u\.gguf: tensor "nope": not in this file/);
    const noArch = await openGguf(memorySource(writeGguf([{ key: 'general.architecture', type: GgufValueType.STRING, value: 'gpt2' }], []), 'g.gguf'));
    expect(() => ggufConfig(noArch)).toThrow(/g\.gguf: metadata "general\.architecture": "gpt2" is not supported/);
  });
});
