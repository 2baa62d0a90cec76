// GGUF v2/v3 reader over a ByteSource: header (metadata key/values, tensor infos) parsed through a small
// chunked reader, every count and length checked against the bytes left in the file before anything is
// allocated, so a lying or truncated file fails fast instead of allocating gigabytes or hanging.
// Tensors are read one at a time: F32/F16/Q8_0/Q4_0 come back as raw bytes (already our layouts),
// Q4_K/Q6_K/BF16 dequantized to f32. Names and Q/K row order are converted to Hugging Face conventions.
import type { WeightType } from '../kernels/quant/formats.ts';
import { bf16ToF32, dequantizeQ4_K, dequantizeQ6_K } from './gguf-quants.ts';
import type { ByteSource } from './source.ts';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as u32 LE

export enum GgufValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export enum GgmlType {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
}

/** [elements per block, bytes per block] (ggml's type_traits). */
export const GGML_BLOCK: Partial<Record<GgmlType, [number, number]>> = {
  [GgmlType.F32]: [1, 4], [GgmlType.F16]: [1, 2], [GgmlType.Q4_0]: [32, 18], [GgmlType.Q4_1]: [32, 20],
  [GgmlType.Q5_0]: [32, 22], [GgmlType.Q5_1]: [32, 24], [GgmlType.Q8_0]: [32, 34], [GgmlType.Q8_1]: [32, 36],
  [GgmlType.Q2_K]: [256, 84], [GgmlType.Q3_K]: [256, 110], [GgmlType.Q4_K]: [256, 144], [GgmlType.Q5_K]: [256, 176],
  [GgmlType.Q6_K]: [256, 210], [GgmlType.Q8_K]: [256, 292], [GgmlType.I8]: [1, 1], [GgmlType.I16]: [1, 2],
  [GgmlType.I32]: [1, 4], [GgmlType.I64]: [1, 8], [GgmlType.F64]: [1, 8], [GgmlType.BF16]: [1, 2],
};

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ggml order: dims[0] is the contiguous (input) dimension. */
  dims: number[];
  /** Absolute offset in the file. */
  byteOffset: number;
  byteLength: number;
}

export interface GgufFile {
  source: ByteSource;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataOffset: number;
}

const CHUNK = 1 << 20;

class HeaderReader {
  pos = 0;
  buf: Uint8Array = new Uint8Array(0);
  bufStart = 0;
  dv = new DataView(this.buf.buffer);
  private text = new TextDecoder('utf-8');

  constructor(readonly src: ByteSource) {}

  get left(): number {
    return this.src.size - this.pos;
  }

  fail(what: string, msg: string): never {
    throw new Error(`${this.src.name}: ${what}: ${msg}`);
  }

  has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.byteLength;
  }

  async need(n: number, what: string): Promise<void> {
    if (this.has(n)) return;
    if (n > this.left) this.fail(what, `file truncated: needs ${n} bytes at offset ${this.pos}, only ${this.left} left`);
    const len = Math.min(Math.max(n, CHUNK), this.left);
    this.buf = await this.src.read(this.pos, len);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
  }

  at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  /** UTF-8 at buffer offset o; short ASCII strings (most vocabulary entries) skip TextDecoder, which is slow per call. */
  decode(o: number, len: number): string {
    const b = this.buf;
    if (len <= 64) {
      let s = '';
      for (let i = o; i < o + len; i++) {
        if (b[i] >= 0x80) return this.text.decode(b.subarray(o, o + len));
        s += String.fromCharCode(b[i]);
      }
      return s;
    }
    return this.text.decode(b.subarray(o, o + len));
  }

  async u32(what: string): Promise<number> {
    if (!this.has(4)) await this.need(4, what);
    return this.dv.getUint32(this.at(4), true);
  }

  /** u64 as a number; anything beyond 2^53 is certainly a lie about this file's contents. */
  async u64(what: string): Promise<number> {
    if (!this.has(8)) await this.need(8, what);
    const v = this.dv.getBigUint64(this.at(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(what, `value ${v} is implausibly large`);
    return Number(v);
  }

  async string(what: string): Promise<string> {
    const len = await this.u64(what);
    if (len > this.left) this.fail(what, `string of ${len} bytes runs past the end of the file`);
    if (!this.has(len)) await this.need(len, what);
    return this.decode(this.at(len), len);
  }

  private scalarAt(type: GgufValueType, o: number): number | bigint | boolean {
    const dv = this.dv;
    switch (type) {
      case GgufValueType.UINT8: return dv.getUint8(o);
      case GgufValueType.INT8: return dv.getInt8(o);
      case GgufValueType.UINT16: return dv.getUint16(o, true);
      case GgufValueType.INT16: return dv.getInt16(o, true);
      case GgufValueType.UINT32: return dv.getUint32(o, true);
      case GgufValueType.INT32: return dv.getInt32(o, true);
      case GgufValueType.FLOAT32: return dv.getFloat32(o, true);
      case GgufValueType.BOOL: return dv.getUint8(o) !== 0;
      case GgufValueType.FLOAT64: return dv.getFloat64(o, true);
      case GgufValueType.UINT64: return safe(dv.getBigUint64(o, true));
      case GgufValueType.INT64: return safe(dv.getBigInt64(o, true));
      default: return this.fail('value', `unknown scalar type ${type}`);
    }
  }

  async value(type: number, what: string, depth = 0): Promise<GgufValue> {
    const scalar = SCALAR_BYTES[type as GgufValueType];
    if (scalar !== undefined) {
      if (!this.has(scalar)) await this.need(scalar, what);
      return this.scalarAt(type, this.at(scalar));
    }
    if (type === GgufValueType.STRING) return this.string(what);
    if (type === GgufValueType.ARRAY) {
      if (depth > 8) this.fail(what, 'arrays nested too deeply');
      const itemType = await this.u32(what);
      const count = await this.u64(what);
      const size = SCALAR_BYTES[itemType as GgufValueType];
      const min = size ?? (itemType === GgufValueType.STRING ? 8 : itemType === GgufValueType.ARRAY ? 12 : 0);
      if (min === 0) this.fail(what, `unknown array item type ${itemType}`);
      if (count * min > this.left) this.fail(what, `array of ${count} items cannot fit in the ${this.left} bytes left`);
      const out: GgufValue[] = new Array(count);
      // Vocabularies hold 100k+ entries: decode from the buffer synchronously, awaiting only to refill it.
      if (size !== undefined) {
        if (!this.has(count * size)) await this.need(count * size, what);
        for (let i = 0; i < count; i++) out[i] = this.scalarAt(itemType, this.at(size));
      } else if (itemType === GgufValueType.STRING) {
        for (let i = 0; i < count; i++) {
          if (this.has(8)) {
            const p = this.pos - this.bufStart;
            const len = this.dv.getUint32(p, true);
            if (this.dv.getUint32(p + 4, true) === 0 && this.has(8 + len)) {
              out[i] = this.decode(this.at(8 + len) + 8, len);
              continue;
            }
          }
          out[i] = await this.string(what);
        }
      } else {
        for (let i = 0; i < count; i++) out[i] = await this.value(itemType, what, depth + 1);
      }
      return out;
    }
    return this.fail(what, `unknown value type ${type}`);
  }
}

const SCALAR_BYTES: Partial<Record<GgufValueType, number>> = {
  [GgufValueType.UINT8]: 1, [GgufValueType.INT8]: 1, [GgufValueType.UINT16]: 2, [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4, [GgufValueType.INT32]: 4, [GgufValueType.FLOAT32]: 4, [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8, [GgufValueType.INT64]: 8, [GgufValueType.FLOAT64]: 8,
};

function safe(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export async function openGguf(src: ByteSource): Promise<GgufFile> {
  const r = new HeaderReader(src);
  const magic = await r.u32('header');
  if (magic !== GGUF_MAGIC) r.fail('header', `not a GGUF file (magic 0x${magic.toString(16).padStart(8, '0')})`);
  const version = await r.u32('header');
  if (version !== 2 && version !== 3) r.fail('header', `GGUF version ${version} is not supported (2 or 3)`);
  const tensorCount = await r.u64('header');
  const kvCount = await r.u64('header');
  // Minimal sizes: a key/value is ≥ 8 (key length) + 4 (type) + 1 bytes, a tensor info ≥ 8 + 4 + 8 + 4 + 8.
  if (kvCount * 13 > r.left) r.fail('header', `${kvCount} metadata entries cannot fit in the file`);
  if (tensorCount * 32 > r.left) r.fail('header', `${tensorCount} tensors cannot fit in the file`);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = await r.string(`metadata entry ${i}`);
    const type = await r.u32(`metadata ${JSON.stringify(key)}`);
    metadata.set(key, await r.value(type, `metadata ${JSON.stringify(key)}`));
  }
  const alignValue = metadata.get('general.alignment') ?? 32;
  if (typeof alignValue !== 'number' || alignValue <= 0 || alignValue > 1 << 30 || (alignValue & (alignValue - 1)) !== 0) {
    r.fail('metadata "general.alignment"', `${String(alignValue)} is not a power of two`);
  }
  const alignment = alignValue as number;
  const infos: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await r.string(`tensor info ${i}`);
    const what = `tensor ${JSON.stringify(name)}`;
    const nDims = await r.u32(what);
    if (nDims < 1 || nDims > 4) r.fail(what, `${nDims} dimensions (ggml allows 1 to 4)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(await r.u64(what));
    const type = (await r.u32(what)) as GgmlType;
    const offset = await r.u64(what);
    const block = GGML_BLOCK[type] ?? r.fail(what, `unknown ggml type ${type}`);
    if (dims[0] % block[0] !== 0) r.fail(what, `row length ${dims[0]} is not a multiple of the ${GgmlType[type]} block size ${block[0]}`);
    let elements = 1;
    for (const d of dims) elements *= d;
    const byteLength = (elements / block[0]) * block[1];
    if (!Number.isSafeInteger(byteLength) || byteLength > src.size) r.fail(what, `${byteLength} bytes of data is larger than the file`);
    if (offset % alignment !== 0) r.fail(what, `data offset ${offset} is not aligned to ${alignment}`);
    infos.push({ name, type, dims, byteOffset: offset, byteLength });
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const t of infos) {
    const what = `tensor ${JSON.stringify(t.name)}`;
    if (tensors.has(t.name)) r.fail(what, 'appears twice');
    t.byteOffset += dataOffset;
    if (t.byteOffset + t.byteLength > src.size) r.fail(what, `data [${t.byteOffset}, ${t.byteOffset + t.byteLength}) runs past the end of the file (${src.size} bytes)`);
    tensors.set(t.name, t);
  }
  const sorted = infos.filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1];
    if (sorted[i].byteOffset < p.byteOffset + p.byteLength) r.fail(`tensor ${JSON.stringify(sorted[i].name)}`, `data overlaps tensor ${JSON.stringify(p.name)}`);
  }
  return { source: src, version, metadata, tensors, alignment, dataOffset };
}

export interface LoadedTensor {
  /** Hugging Face name (model.layers.N.self_attn.q_proj.weight...), or the GGUF name when it has none. */
  name: string;
  ggufName: string;
  type: WeightType;
  /** Row-major, outermost first (HF/PyTorch order: [rows, K] for a weight). */
  shape: number[];
  data: Uint8Array;
}

const DIRECT: Partial<Record<GgmlType, WeightType>> = {
  [GgmlType.F32]: 'f32', [GgmlType.F16]: 'f16', [GgmlType.Q8_0]: 'q8_0', [GgmlType.Q4_0]: 'q4_0',
};

function findTensor(g: GgufFile, name: string): GgufTensorInfo | null {
  return g.tensors.get(name) ?? g.tensors.get(hfToGgufName(name, architecture(g)) ?? '') ?? null;
}

// The types readGgufTensor dequantizes to f32 as it reads them; any other type it refuses.
const TO_F32 = new Set([GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.BF16]);

/** The type readGgufTensor gives a tensor (GGUF or HF name), from the header alone: null where the file lacks it or readGgufTensor refuses its type. */
export function ggufTensorType(g: GgufFile, name: string): WeightType | null {
  const info = findTensor(g, name);
  if (!info) return null;
  return DIRECT[info.type] ?? (TO_F32.has(info.type) ? 'f32' : null);
}

/**
 * Reads one tensor by GGUF or HF name. Q/K projections of llama-architecture files get their rows put back
 * in Hugging Face order (convert_hf_to_gguf permutes them for ggml's interleaved RoPE); `raw` skips that.
 */
export async function readGgufTensor(g: GgufFile, name: string, opts: { raw?: boolean } = {}): Promise<LoadedTensor> {
  const info = findTensor(g, name);
  if (!info) throw new Error(`${g.source.name}: tensor ${JSON.stringify(name)}: not in this file`);
  const what = `${g.source.name}: tensor ${JSON.stringify(info.name)}`;
  const elements = info.dims.reduce((a, b) => a * b, 1);
  const bytes = await g.source.read(info.byteOffset, info.byteLength);
  let type = DIRECT[info.type];
  let data: Uint8Array;
  if (type) data = bytes;
  else {
    if (!TO_F32.has(info.type)) throw new Error(`${what}: ggml type ${GgmlType[info.type] ?? info.type} is not supported (F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q6_K)`);
    let f: Float32Array;
    if (info.type === GgmlType.Q4_K) f = dequantizeQ4_K(bytes, elements);
    else if (info.type === GgmlType.Q6_K) f = dequantizeQ6_K(bytes, elements);
    else f = bf16ToF32(bytes, elements);
    type = 'f32';
    data = new Uint8Array(f.buffer);
  }
  const shape = [...info.dims].reverse();
  if (!opts.raw && architecture(g) === 'llama') {
    const m = /^blk\.\d+\.attn_(q|k)\.weight$/.exec(info.name);
    if (m) {
      const key = m[1] === 'q' ? 'llama.attention.head_count' : 'llama.attention.head_count_kv';
      const heads = Number(g.metadata.get(key) ?? (m[1] === 'k' ? g.metadata.get('llama.attention.head_count') : undefined));
      if (!Number.isInteger(heads) || heads <= 0) throw new Error(`${what}: metadata ${key} missing, cannot undo the Q/K row permutation`);
      data = unpermuteRows(data, shape[0], heads, what);
    }
  }
  return { name: ggufToHfName(info.name, architecture(g)) ?? info.name, ggufName: info.name, type, shape, data };
}

/**
 * Inverse of convert_hf_to_gguf's permute(): within each head of D rows, GGUF row 2i + j holds HF row j·D/2 + i.
 * Rows move whole, so quantized rows move as bytes and nothing is requantized.
 */
export function unpermuteRows(data: Uint8Array, rows: number, heads: number, what = 'tensor'): Uint8Array {
  const D = rows / heads;
  if (!Number.isInteger(D) || D % 2 !== 0) throw new Error(`${what}: ${rows} rows do not split into ${heads} heads of even size`);
  return moveRows(data, rows, heads, false);
}

/** The permutation convert_hf_to_gguf applies (for writing test files). */
export function permuteRows(data: Uint8Array, rows: number, heads: number): Uint8Array {
  return moveRows(data, rows, heads, true);
}

/** Within each head of D rows, HF row j·D/2 + i ↔ GGUF row 2i + j; `toGguf` picks the direction. */
function moveRows(data: Uint8Array, rows: number, heads: number, toGguf: boolean): Uint8Array {
  const D = rows / heads;
  const rowBytes = data.byteLength / rows;
  const out = new Uint8Array(data.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < D / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const gguf = h * D + 2 * i + j;
        const hf = h * D + j * (D / 2) + i;
        const [src, dst] = toGguf ? [hf, gguf] : [gguf, hf];
        out.set(data.subarray(src * rowBytes, (src + 1) * rowBytes), dst * rowBytes);
      }
    }
  }
  return out;
}

export function architecture(g: GgufFile): string {
  const a = g.metadata.get('general.architecture');
  return typeof a === 'string' ? a : '';
}

const LAYER_NAMES: Record<string, string> = {
  attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj', attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
  attn_norm: 'input_layernorm', ffn_norm: 'post_attention_layernorm',
  attn_q_norm: 'self_attn.q_norm', attn_k_norm: 'self_attn.k_norm',
};
// Gemma 3 (llama.cpp's gemma3): ffn_norm is the pre-feed-forward norm, and the sandwich norms have their own names.
const GEMMA3_NAMES: Record<string, string> = {
  ...LAYER_NAMES,
  ffn_norm: 'pre_feedforward_layernorm', post_attention_norm: 'post_attention_layernorm', post_ffw_norm: 'post_feedforward_layernorm',
};
const layerNames = (arch: string) => (arch === 'gemma3' ? GEMMA3_NAMES : LAYER_NAMES);
const GLOBAL_NAMES: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight', 'output_norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight',
};

/** Hugging Face name of a GGUF tensor (llama.cpp's names for `arch`: llama, qwen2, qwen3, gemma3). */
export function ggufToHfName(name: string, arch = 'llama'): string | null {
  if (GLOBAL_NAMES[name]) return GLOBAL_NAMES[name];
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
  const names = layerNames(arch);
  if (!m || !names[m[2]]) return null;
  return `model.layers.${m[1]}.${names[m[2]]}.${m[3]}`;
}

export function hfToGgufName(name: string, arch = 'llama'): string | null {
  for (const [g, h] of Object.entries(GLOBAL_NAMES)) if (h === name) return g;
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const g = Object.entries(layerNames(arch)).find(([, h]) => h === m[2]);
  return g ? `blk.${m[1]}.${g[0]}.${m[3]}` : null;
}

const ARCH_CLASS: Record<string, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', gemma3: 'Gemma3ForCausalLM' };

/**
 * A Hugging Face config.json equivalent built from `{arch}.*` metadata. llama3-style RoPE scaling in GGUF
 * is a `rope_freqs` tensor, not metadata: `ropeFreqsTensor` says when the file has one.
 */
export function ggufConfig(g: GgufFile): { config: Record<string, unknown>; ropeFreqsTensor: boolean } {
  const arch = architecture(g);
  const cls = ARCH_CLASS[arch];
  const file = g.source.name;
  if (!cls) throw new Error(`${file}: metadata "general.architecture": ${JSON.stringify(arch)} is not supported (${Object.keys(ARCH_CLASS).join(', ')})`);
  const num = (key: string, fallback?: number): number => {
    const v = g.metadata.get(`${arch}.${key}`);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${file}: metadata "${arch}.${key}": missing`);
    }
    if (typeof v !== 'number') throw new Error(`${file}: metadata "${arch}.${key}": expected a number, got ${String(v)}`);
    return v;
  };
  const C = num('embedding_length');
  const H = num('attention.head_count');
  const tokens = g.metadata.get('tokenizer.ggml.tokens');
  const embd = g.tensors.get('token_embd.weight');
  const vocab = num('vocab_size', Array.isArray(tokens) ? tokens.length : embd ? embd.dims[1] : undefined);
  const id = (key: string) => {
    const v = g.metadata.get(`tokenizer.ggml.${key}`);
    return typeof v === 'number' ? v : null;
  };
  const config: Record<string, unknown> = {
    architectures: [cls],
    model_type: arch,
    hidden_size: C,
    intermediate_size: num('feed_forward_length'),
    num_hidden_layers: num('block_count'),
    num_attention_heads: H,
    num_key_value_heads: num('attention.head_count_kv', H),
    head_dim: num('attention.key_length', C / H),
    rms_norm_eps: num('attention.layer_norm_rms_epsilon', 1e-6),
    rope_theta: num('rope.freq_base', 10000),
    vocab_size: vocab,
    max_position_embeddings: num('context_length', 2048),
    tie_word_embeddings: !g.tensors.has('output.weight'),
    hidden_act: 'silu',
    bos_token_id: id('bos_token_id'),
    eos_token_id: id('eos_token_id'),
  };
  if (arch === 'qwen2' || arch === 'qwen3') config.use_sliding_window = false;
  if (arch === 'gemma3') {
    // As llama.cpp's gemma3 runs it: the hidden activation is gelu-tanh, sliding layers use θ 10000 unless the
    // file says otherwise and every 6th layer is global, and scores are scaled by head_dim^-½ except on the
    // 62-layer 27B (hidden / heads). convert_hf_to_gguf stored every norm weight as 1 + w.
    const L = num('block_count');
    const pattern = num('attention.sliding_window_pattern', 6);
    Object.assign(config, {
      model_type: 'gemma3_text',
      hidden_activation: 'gelu_pytorch_tanh',
      sliding_window: num('attention.sliding_window'),
      layer_types: Array.from({ length: L }, (_, i) => ((i + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention')),
      rope_local_base_freq: num('rope.freq_base_swa', 10000),
      query_pre_attn_scalar: L === 62 ? C / H : num('attention.key_length', C / H),
      norm_weights_include_one: true,
    });
    delete config.hidden_act;
  }
  const scaling = g.metadata.get(`${arch}.rope.scaling.type`);
  if (typeof scaling === 'string' && scaling !== 'none') {
    config.rope_scaling = { rope_type: scaling, type: scaling, factor: num('rope.scaling.factor', 1), original_max_position_embeddings: num('rope.scaling.original_context_length', 0) || undefined };
  }
  return { config, ropeFreqsTensor: g.tensors.has('rope_freqs.weight') };
}
