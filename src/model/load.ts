// Opens a model from wherever its files are (a Node folder, dropped browser files, a Hub download, a GGUF):
// config.json (or GGUF metadata) parsed and checked, and a TensorReader that yields one tensor at a time.
import { architecture, ggufConfig, ggufTensorType, openGguf, readGgufTensor, hfToGgufName, type GgufValue } from '../io/gguf.ts';
import { openSafetensors, openShardedSafetensors, type TensorSet } from '../io/safetensors.ts';
import type { ByteSource } from '../io/source.ts';
import { parseConfig, type ModelConfig } from './config.ts';
import { assertFinite } from './finite.ts';
import type { HostDtype, HostTensor, TensorReader } from './model.ts';

/** A set of named files: a model folder. */
export interface FileProvider {
  name: string;
  files(): string[];
  open(file: string): Promise<ByteSource>;
  /** Releases open files (Node file handles); tensors cannot be read after it. */
  close?(): Promise<void>;
}

export interface OpenedModel {
  name: string;
  cfg: ModelConfig;
  configJson: Record<string, unknown>;
  reader: TensorReader;
  /** tokenizer.json / tokenizer_config.json contents when the folder has them. */
  tokenizerJson: Record<string, unknown> | null;
  tokenizerConfig: Record<string, unknown> | null;
  /** GGUF metadata when the model came from a GGUF file (its tokenizer lives there). */
  ggufMetadata: Map<string, GgufValue> | null;
  /** Call once the weights are on the GPU. */
  close(): Promise<void>;
}

async function readJson(p: FileProvider, file: string): Promise<Record<string, unknown>> {
  const src = await p.open(file);
  const text = new TextDecoder().decode(await src.read(0, src.size));
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${p.name}/${file}: invalid JSON (${(e as Error).message})`);
  }
}

/** A safetensors dtype this engine loads (read() refuses the others), as a host dtype; null for the others. */
const loadable = (d: string | undefined): HostDtype | null => (d === 'F32' || d === 'F16' || d === 'BF16' ? d : null);

function safetensorsReader(set: TensorSet, source: string): TensorReader {
  return {
    source,
    has: (n) => set.tensors.has(n),
    dtype: (n) => loadable(set.tensors.get(n)?.dtype),
    async read(n) {
      const info = set.tensors.get(n)!;
      const dtype = loadable(info.dtype);
      if (!dtype) throw new Error(`${info.file}: tensor ${n}: dtype ${info.dtype} is not a float type this engine loads (F32, F16, BF16)`);
      const t: HostTensor = { dtype, shape: info.shape, data: await set.read(n) };
      assertFinite(t, `${info.file}: tensor ${n}`);
      return t;
    },
  };
}

export async function openModel(p: FileProvider): Promise<OpenedModel> {
  const files = p.files();
  const gguf = files.find((f) => f.toLowerCase().endsWith('.gguf'));
  if (gguf && !files.includes('config.json')) {
    const g = await openGguf(await p.open(gguf));
    const arch = architecture(g);
    const { config, ropeFreqsTensor } = ggufConfig(g);
    const cfg = parseConfig(config, gguf);
    if (ropeFreqsTensor) {
      // llama.cpp stores Llama-3 RoPE scaling as per-frequency divisors (convert_hf_to_gguf's rope_freqs).
      const t = await readGgufTensor(g, 'rope_freqs.weight');
      if (t.type !== 'f32' || t.shape.length !== 1 || t.shape[0] !== cfg.D / 2) {
        throw new Error(`${gguf}: tensor rope_freqs.weight: expected ${cfg.D / 2} f32 values (head_dim / 2), got ${t.type} [${t.shape}]`);
      }
      cfg.ropeFreqFactors = Float32Array.from(new Float32Array(t.data.buffer, t.data.byteOffset, cfg.D / 2));
    }
    const types: Record<string, HostDtype> = { f32: 'F32', f16: 'F16', q8_0: 'Q8_0', q4_0: 'Q4_0' };
    const reader: TensorReader = {
      source: gguf,
      has: (n) => g.tensors.has(hfToGgufName(n, arch) ?? n),
      dtype(n) {
        const t = ggufTensorType(g, n);
        return t && types[t];
      },
      async read(n): Promise<HostTensor> {
        const t = await readGgufTensor(g, n);
        const out: HostTensor = { dtype: types[t.type], shape: t.shape, data: t.data };
        assertFinite(out, `${gguf}: tensor ${t.ggufName}`);
        return out;
      },
    };
    return { name: gguf.replace(/\.gguf$/i, ''), cfg, configJson: config, reader, tokenizerJson: null, tokenizerConfig: null, ggufMetadata: g.metadata, close: async () => p.close?.() };
  }
  if (!files.includes('config.json')) throw new Error(`${p.name}: no config.json (a Hugging Face model folder) and no .gguf file`);
  const configJson = await readJson(p, 'config.json');
  const cfg = parseConfig(configJson, `${p.name}/config.json`);
  let set: TensorSet;
  if (files.includes('model.safetensors.index.json')) {
    set = await openShardedSafetensors(await readJson(p, 'model.safetensors.index.json'), (f) => p.open(f));
  } else if (files.includes('model.safetensors')) {
    set = await openSafetensors(await p.open('model.safetensors'));
  } else {
    throw new Error(`${p.name}: no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints are not supported)`);
  }
  // Tying an untied model would run it with the wrong output head: refuse (transformers would leave lm_head
  // randomly initialised, which is no better).
  if (!cfg.tieEmbeddings && !set.tensors.has('lm_head.weight')) {
    throw new Error(`${p.name}/config.json: tie_word_embeddings: the model is untied (${configJson.tie_word_embeddings === undefined ? `${cfg.architecture}'s default` : 'false'}) but the weights have no lm_head.weight`);
  }
  return {
    name: p.name,
    cfg,
    configJson,
    reader: safetensorsReader(set, p.name),
    tokenizerJson: files.includes('tokenizer.json') ? await readJson(p, 'tokenizer.json') : null,
    tokenizerConfig: files.includes('tokenizer_config.json') ? await readJson(p, 'tokenizer_config.json') : null,
    ggufMetadata: null,
    close: async () => p.close?.(),
  };
}
