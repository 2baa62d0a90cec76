import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNodeFile } from '../../src/io/node-source.ts';
import { openSafetensors, openShardedSafetensors, toFloat32, writeSafetensors } from '../../src/io/safetensors.ts';
import { blobSource, memorySource } from '../../src/io/source.ts';
import { countingSource, rejects } from './helpers.ts';

const GOLDEN = join(__dirname, '../../../shared/golden');

/** A safetensors file from a header object and a data size, bypassing the writer's checks. */
function rawFile(header: unknown, dataBytes: number, headerText = JSON.stringify(header)): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + h.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.byteLength), true);
  out.set(h, 8);
  return out;
}

describe('safetensors', () => {
  it('writes and reads back tensors and metadata, header padded to 8 bytes', async () => {
    const a = Float32Array.from([1, -2.5, 3, 4, 5, 6]);
    const b = Uint16Array.from([0x3c00, 0xc000, 0x7bff]); // f16 1, -2, 65504
    const c = Uint16Array.from([0x3f80, 0x4040]); // bf16 1, 3
    const bytes = writeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: a },
        { name: 'b', dtype: 'F16', shape: [3], data: b },
        { name: 'c', dtype: 'BF16', shape: [1, 2], data: c },
        { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      ],
      { format: 'pt', note: 'x' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const st = await openSafetensors(memorySource(bytes, 'x.safetensors'));
    expect(st.metadata).toEqual({ format: 'pt', note: 'x' });
    expect([...st.tensors.keys()]).toEqual(['a', 'b', 'c', 'empty']);
    expect(st.tensors.get('a')!.shape).toEqual([2, 3]);
    expect(toFloat32(st.tensors.get('a')!, await st.read('a'))).toEqual(a);
    expect([...toFloat32(st.tensors.get('b')!, await st.read('b'))]).toEqual([1, -2, 65504]);
    expect([...toFloat32(st.tensors.get('c')!, await st.read('c'))]).toEqual([1, 3]);
    expect((await st.read('empty')).byteLength).toBe(0);
  });

  it('streams from a Node file: header plus one tensor, never the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const big = new Float32Array(1 << 18); // 1 MiB that must not be read
    const small = Float32Array.from([7, 8, 9]);
    writeFileSync(join(dir, 'm.safetensors'), writeSafetensors([
      { name: 'big', dtype: 'F32', shape: [big.length], data: big },
      { name: 'small', dtype: 'F32', shape: [3], data: small },
    ]));
    const file = await openNodeFile(join(dir, 'm.safetensors'));
    try {
      const src = countingSource(file);
      const st = await openSafetensors(src);
      const headerBytes = st.dataOffset;
      expect(toFloat32(st.tensors.get('small')!, await st.read('small'))).toEqual(small);
      expect(src.bytesRead()).toBe(headerBytes + 12);
      expect(src.bytesRead()).toBeLessThan(file.size / 100);
    } finally {
      await file.close();
    }
  });

  it('reads through a Blob', async () => {
    const bytes = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }]);
    const st = await openSafetensors(blobSource(new Blob([bytes as BlobPart]), 'drop.safetensors'));
    expect(toFloat32(st.tensors.get('w')!, await st.read('w'))).toEqual(Float32Array.from([1, 2]));
  });

  it('refuses bad files, naming the file and the tensor', async () => {
    const open = (b: Uint8Array) => rejects(openSafetensors(memorySource(b, 'bad.safetensors')));
    expect(await open(new Uint8Array(4))).toMatch(/bad\.safetensors.*too short/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(await open(huge)).toMatch(/bad\.safetensors.*exceeds/);
    const past = new Uint8Array(16);
    new DataView(past.buffer).setBigUint64(0, 100n, true);
    expect(await open(past)).toMatch(/bad\.safetensors: header: .*past the end/);
    expect(await open(rawFile(null, 0, '{"a": {'))).toMatch(/bad\.safetensors: header: invalid JSON/);
    expect(await open(rawFile([], 0))).toMatch(/not an object/);
    const t = (entry: unknown, data = 16) => open(rawFile({ 'layer.w': entry }, data));
    expect(await t({ dtype: 'Q4', shape: [4], data_offsets: [0, 16] })).toMatch(/bad\.safetensors: tensor "layer\.w": unknown dtype "Q4"/);
    expect(await t({ dtype: 'F32', shape: [4], data_offsets: [0, 32] })).toMatch(/tensor "layer\.w": .*past the end/);
    expect(await t({ dtype: 'F32', shape: [3], data_offsets: [0, 16] })).toMatch(/tensor "layer\.w": 16 bytes for F32 \[3\], expected 12/);
    expect(await t({ dtype: 'F32', shape: [4], data_offsets: [8, 4] })).toMatch(/tensor "layer\.w": .*end before/);
    expect(await t({ dtype: 'F32', shape: [-1], data_offsets: [0, 16] })).toMatch(/tensor "layer\.w": invalid shape/);
    expect(await t({ dtype: 'F32', shape: [4], data_offsets: [0] })).toMatch(/tensor "layer\.w": invalid data_offsets/);
    expect(await t({ dtype: 'F32', shape: [4], data_offsets: [0, 1e300] })).toMatch(/tensor "layer\.w": invalid data_offsets/);
    const overlap = rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 16);
    expect(await open(overlap)).toMatch(/tensor "b": data overlaps tensor "a"/);
    expect(await open(rawFile({ __metadata__: { n: 1 } }, 0))).toMatch(/__metadata__.*"n" is not a string/);
    expect(() => writeSafetensors([{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/tensor "x": 8 bytes/);
  });

  it('opens a sharded checkpoint through its index', async () => {
    const s1 = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], data: Float32Array.from([1]) }]);
    const s2 = writeSafetensors([{ name: 'b', dtype: 'F32', shape: [1], data: Float32Array.from([2]) }, { name: 'c', dtype: 'F32', shape: [1], data: Float32Array.from([3]) }]);
    const shards: Record<string, Uint8Array> = { 'model-00001-of-00002.safetensors': s1, 'model-00002-of-00002.safetensors': s2 };
    const opened: string[] = [];
    const openFile = async (f: string) => {
      opened.push(f);
      if (!shards[f]) throw new Error(`${f}: no such file`);
      return memorySource(shards[f], f);
    };
    const index = { metadata: { total_size: 12 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } };
    const set = await openShardedSafetensors(index, openFile);
    expect(opened.sort()).toEqual(Object.keys(shards).sort());
    expect(set.tensors.get('c')!.file).toBe('model-00002-of-00002.safetensors');
    expect(toFloat32(set.tensors.get('c')!, await set.read('c'))[0]).toBe(3);
    expect(await rejects(set.read('zzz'))).toMatch(/model\.safetensors\.index\.json: tensor "zzz"/);
    const wrong = { weight_map: { ...index.weight_map, a: 'model-00002-of-00002.safetensors' } };
    expect(await rejects(openShardedSafetensors(wrong, openFile))).toMatch(/model-00002-of-00002\.safetensors: tensor "a": listed in model\.safetensors\.index\.json but not in the shard/);
    expect(await rejects(openShardedSafetensors({}, openFile))).toMatch(/index\.json: weight_map: missing/);
  });

  it('loads the golden model with the shapes config.json implies', async () => {
    const cfg = JSON.parse(readFileSync(join(GOLDEN, 'model/config.json'), 'utf8'));
    const file = await openNodeFile(join(GOLDEN, 'model/model.safetensors'));
    try {
      const st = await openSafetensors(file);
      const { hidden_size: C, intermediate_size: F, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: D, vocab_size: V } = cfg;
      expect([C, F, cfg.num_hidden_layers, H, Hkv, V]).toEqual([64, 192, 2, 4, 2, 512]);
      const want: Record<string, number[]> = { 'model.embed_tokens.weight': [V, C], 'model.norm.weight': [C], 'lm_head.weight': [V, C] };
      for (let l = 0; l < cfg.num_hidden_layers; l++) {
        const p = `model.layers.${l}`;
        Object.assign(want, {
          [`${p}.input_layernorm.weight`]: [C], [`${p}.post_attention_layernorm.weight`]: [C],
          [`${p}.self_attn.q_proj.weight`]: [H * D, C], [`${p}.self_attn.k_proj.weight`]: [Hkv * D, C],
          [`${p}.self_attn.v_proj.weight`]: [Hkv * D, C], [`${p}.self_attn.o_proj.weight`]: [C, H * D],
          [`${p}.mlp.gate_proj.weight`]: [F, C], [`${p}.mlp.up_proj.weight`]: [F, C], [`${p}.mlp.down_proj.weight`]: [C, F],
        });
      }
      expect(Object.fromEntries([...st.tensors].map(([k, v]) => [k, v.shape]))).toEqual(want);
      for (const info of st.tensors.values()) expect(info.dtype).toBe('F32');
      const norm = toFloat32(st.tensors.get('model.norm.weight')!, await st.read('model.norm.weight'));
      expect(norm.every(Number.isFinite)).toBe(true);
    } finally {
      await file.close();
    }
  });
});
