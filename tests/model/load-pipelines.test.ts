// model.ts loadPipelines: the pipelines loadBaseModel creates, found from the tensors' dtypes before any is read
// (the engine creates them before it queues the step's pipelines ahead: one created on the JS thread waits behind
// those). Checked on the tiny model stored with a dtype per matrix that cycles through every loadMatrix route (in
// memory and as a GGUF), and as its F16 file, loaded in each quantization on a fresh device.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.ts';
import { GgmlType, GgufValueType, hfToGgufName } from '../../src/io/gguf.ts';
import { writeGguf, type GgufEntry } from '../../src/io/gguf-writer.ts';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { pipelineId } from '../../src/gpu/wgsl.ts';
import { f32ToF16Bits, quantizeQ4_0, quantizeQ8_0 } from '../../src/kernels/quant/formats.ts';
import { parseConfig } from '../../src/model/config.ts';
import { openModel } from '../../src/model/load.ts';
import { hostToF32, loadBaseModel, loadPipelines, memoryReader, releaseBaseModel, type HostDtype, type HostTensor, type Quant, type TensorReader } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { TINY } from '../util/tiny.ts';

const QUANTS: Quant[] = ['none', 'f16', 'q8_0', 'q4_0'];
const UNSUPPORTED = 'extra.q5_0.weight';
// The matrices' dtypes in turn; vectors stay as stored. BF16 in a GGUF reads back as F32 (dequantized on the host).
const CYCLE: HostDtype[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0'];
const GGML: Record<HostDtype, GgmlType> = { F32: GgmlType.F32, F16: GgmlType.F16, BF16: GgmlType.BF16, Q8_0: GgmlType.Q8_0, Q4_0: GgmlType.Q4_0 };

function encode(x: Float32Array, dtype: HostDtype, rows: number, K: number): Uint8Array {
  switch (dtype) {
    case 'F32': return new Uint8Array(x.buffer.slice(0));
    case 'F16': return new Uint8Array(Uint16Array.from(x, f32ToF16Bits).buffer);
    case 'BF16': return new Uint8Array(Uint16Array.from(new Uint32Array(x.buffer.slice(0)), (b) => b >>> 16).buffer);
    case 'Q8_0': return quantizeQ8_0(x, rows, K);
    case 'Q4_0': return quantizeQ4_0(x, rows, K);
  }
}

/** The tiny model's tensors with the matrices re-encoded in `cycle`'s dtypes, in file order. */
async function mixedTensors(cycle = CYCLE): Promise<Map<string, HostTensor>> {
  const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(resolve(TINY, 'model.safetensors'))), 'model.safetensors'));
  const out = new Map<string, HostTensor>();
  let i = 0;
  for (const [name, info] of st.tensors) {
    const t: HostTensor = { dtype: info.dtype as HostDtype, shape: info.shape, data: await st.read(name) };
    if (t.shape.length !== 2) out.set(name, t);
    else {
      const dtype = cycle[i++ % cycle.length];
      out.set(name, { dtype, shape: t.shape, data: encode(hostToF32(t, name), dtype, t.shape[0], t.shape[1]) });
    }
  }
  return out;
}

/** The same tensors as a llama GGUF file (the tiny model's config as metadata). */
function asGguf(tensors: Map<string, HostTensor>): Uint8Array {
  const u32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.UINT32, value });
  const f32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.FLOAT32, value });
  const c = JSON.parse(readFileSync(resolve(TINY, 'config.json'), 'utf8')) as Record<string, number>;
  return writeGguf([
    { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
    u32('llama.block_count', c.num_hidden_layers), u32('llama.context_length', c.max_position_embeddings), u32('llama.embedding_length', c.hidden_size),
    u32('llama.feed_forward_length', c.intermediate_size), u32('llama.attention.head_count', c.num_attention_heads),
    u32('llama.attention.head_count_kv', c.num_key_value_heads), u32('llama.attention.key_length', c.head_dim),
    f32('llama.attention.layer_norm_rms_epsilon', c.rms_norm_eps), f32('llama.rope.freq_base', c.rope_theta),
  ], [
    ...[...tensors].map(([name, t]) => ({ name: hfToGgufName(name)!, type: GGML[t.dtype], dims: [...t.shape].reverse(), data: t.data })),
    // A type the reader refuses (one Q5_0 block): its dtype is null, as read() throws.
    { name: UNSUPPORTED, type: GgmlType.Q5_0, dims: [32], data: new Uint8Array(22) },
  ]);
}

async function readers(): Promise<[string, TensorReader, () => Promise<void>][]> {
  const tensors = await mixedTensors();
  const ggufOf = (t: Map<string, HostTensor>) => openModel({ name: 'tiny.gguf', files: () => ['tiny.gguf'], open: async () => memorySource(asGguf(t), 'tiny.gguf') });
  const gguf = await ggufOf(tensors);
  // A Q8_0 GGUF, as llama.cpp users have them: requantized through f32 on the host, the only route that needs f32.
  const q8 = await ggufOf(await mixedTensors(['Q8_0']));
  const safetensors = await openModel(nodeFiles(TINY));
  return [
    ['mixed dtypes in memory', memoryReader('mixed', tensors), async () => {}],
    ['mixed dtypes in a GGUF', gguf.reader, () => gguf.close()],
    ['a Q8_0 GGUF', q8.reader, () => q8.close()],
    ['the F16 safetensors file', safetensors.reader, () => safetensors.close()],
  ];
}

describe('the load\'s pipelines, known before the weights are read', () => {
  it('every reader names the dtype read() gives, from the header alone', async () => {
    const tensors = await mixedTensors();
    expect(new Set([...tensors.values()].map((t) => t.dtype))).toEqual(new Set(CYCLE));
    for (const [what, reader, close] of await readers()) {
      for (const name of tensors.keys()) expect([what, name, reader.dtype(name)]).toEqual([what, name, (await reader.read(name)).dtype]);
      expect(reader.dtype('model.layers.9.mlp.up_proj.weight')).toBeNull();
      if (reader.has(UNSUPPORTED)) {
        expect(reader.dtype(UNSUPPORTED)).toBeNull();
        await expect(reader.read(UNSUPPORTED)).rejects.toThrow(/Q5_0 is not supported/);
      }
      await close();
    }
  });

  for (const quant of QUANTS) {
    it(`loadPipelines lists the pipelines loadBaseModel creates, no more (${quant})`, async () => {
      const cfg = parseConfig(JSON.parse(readFileSync(resolve(TINY, 'config.json'), 'utf8')), 'config.json');
      for (const [what, reader, close] of await readers()) {
        const ctx = await GpuContext.create(); // nothing cached: each pipeline the load needs is created here
        try {
          const before = new Set(ctx.pipelineIds);
          releaseBaseModel(ctx, await loadBaseModel(ctx, cfg, reader, quant));
          const created = ctx.pipelineIds.filter((id) => !before.has(id)).sort();
          const listed = loadPipelines(cfg, reader, quant).map(pipelineId).sort();
          expect([what, listed]).toEqual([what, created]);
        } finally {
          ctx.destroy();
          await close();
        }
      }
    }, 60_000);
  }
});
