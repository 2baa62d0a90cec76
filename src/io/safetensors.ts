// safetensors: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, __metadata__?},
// then the data (offsets relative to its start). Headers are read whole (≤ 100 MB), tensors one at a time.
import type { ByteSource } from './source.ts';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

export const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The file holding it (a shard's name for sharded checkpoints). */
  file: string;
  /** Absolute offset in that file. */
  byteOffset: number;
  byteLength: number;
}

/** A set of named tensors readable one at a time: one safetensors file or a sharded checkpoint. */
export interface TensorSet {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  read(name: string): Promise<Uint8Array>;
}

export interface SafetensorsFile extends TensorSet {
  source: ByteSource;
  dataOffset: number;
}

const fail = (file: string, what: string, msg: string): never => {
  throw new Error(`${file}: ${what}: ${msg}`);
};

export async function openSafetensors(src: ByteSource): Promise<SafetensorsFile> {
  const file = src.name;
  if (src.size < 8) fail(file, 'header', `file is ${src.size} bytes, too short for a safetensors header`);
  const lenBytes = await src.read(0, 8);
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(file, 'header', `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > src.size) fail(file, 'header', `header length ${n} runs past the end of the file (${src.size} bytes)`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(await src.read(8, n));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(file, 'header', `invalid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'header', 'JSON is not an object');
  const dataOffset = 8 + n;
  const dataSize = src.size - dataOffset;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, '__metadata__', 'must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, '__metadata__', `value of ${JSON.stringify(k)} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (typeof raw !== 'object' || raw === null) fail(file, what, 'entry is not an object');
    const { dtype, shape, data_offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) fail(file, what, `unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, what, `invalid shape ${JSON.stringify(shape)}`);
    const offs = data_offsets as unknown[];
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      fail(file, what, `invalid data_offsets ${JSON.stringify(data_offsets)}`);
    }
    const [start, end] = offs as number[];
    if (end < start) fail(file, what, `data_offsets [${start}, ${end}] end before they start`);
    if (end > dataSize) fail(file, what, `data_offsets [${start}, ${end}] run past the end of the data (${dataSize} bytes)`);
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = elements * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end - start !== expected) fail(file, what, `${end - start} bytes for ${dtype} ${JSON.stringify(shape)}, expected ${expected}`);
    tensors.set(name, { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], file, byteOffset: dataOffset + start, byteLength: end - start });
  }
  const sorted = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].byteOffset < prev.byteOffset + prev.byteLength) {
      fail(file, `tensor ${JSON.stringify(sorted[i].name)}`, `data overlaps tensor ${JSON.stringify(prev.name)}`);
    }
  }
  return {
    source: src,
    dataOffset,
    tensors,
    metadata,
    read: async (name) => {
      const t = tensors.get(name) ?? fail(file, `tensor ${JSON.stringify(name)}`, 'not in this file');
      return src.read(t.byteOffset, t.byteLength);
    },
  };
}

/**
 * A sharded checkpoint: `model.safetensors.index.json` {weight_map: {tensor: shard file}} plus its shards,
 * opened through `openFile` (a Node path, a dropped File, a Hub download...).
 */
export async function openShardedSafetensors(index: unknown, openFile: (file: string) => Promise<ByteSource>, indexName = 'model.safetensors.index.json'): Promise<TensorSet> {
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) fail(indexName, 'weight_map', 'missing or not an object');
  const weightMap = map as Record<string, unknown>;
  const shardNames = new Set<string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard === '') fail(indexName, `tensor ${JSON.stringify(name)}`, `shard ${JSON.stringify(shard)} is not a file name`);
    shardNames.add(shard as string);
  }
  const shards = new Map<string, SafetensorsFile>();
  for (const shard of shardNames) shards.set(shard, await openSafetensors(await openFile(shard)));
  const tensors = new Map<string, TensorInfo>();
  const metadata: Record<string, string> = {};
  for (const s of shards.values()) Object.assign(metadata, s.metadata);
  for (const [name, shard] of Object.entries(weightMap) as [string, string][]) {
    const info = shards.get(shard)!.tensors.get(name) ?? fail(shard, `tensor ${JSON.stringify(name)}`, `listed in ${indexName} but not in the shard`);
    tensors.set(name, info);
  }
  return {
    tensors,
    metadata,
    read: (name) => {
      const shard = weightMap[name];
      if (typeof shard !== 'string') return Promise.reject(new Error(`${indexName}: tensor ${JSON.stringify(name)}: not in weight_map`));
      return shards.get(shard)!.read(name);
    },
  };
}

/** Widens a float tensor's bytes to f32 (F32 copies, F16/BF16/F64 convert); other dtypes are refused. */
export function toFloat32(info: Pick<TensorInfo, 'name' | 'file' | 'dtype'>, bytes: Uint8Array): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[info.dtype];
  const out = new Float32Array(n);
  switch (info.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      return fail(info.file, `tensor ${JSON.stringify(info.name)}`, `dtype ${info.dtype} is not a float type`);
  }
}

// A table is ~10x faster than the arithmetic conversion for the millions of values in a checkpoint.
let halfTable: Float32Array | null = null;
function halfToFloat(h: number): number {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const sign = i & 0x8000 ? -1 : 1;
      const exp = (i >>> 10) & 0x1f;
      const mant = i & 0x3ff;
      halfTable[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
    }
  }
  return halfTable[h];
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian bytes, or a typed array whose bytes are written as they are. */
  data: Uint8Array | ArrayBufferView;
}

/** Serializes tensors in the given order; the header is padded with spaces to a multiple of 8 as the reference writer does. */
export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const views: Uint8Array[] = [];
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`writeSafetensors: tensor ${JSON.stringify(t.name)}: duplicate or reserved name`);
    if (!(t.dtype in DTYPE_BYTES)) throw new Error(`writeSafetensors: tensor ${JSON.stringify(t.name)}: unknown dtype ${t.dtype}`);
    const bytes = t.data instanceof Uint8Array ? t.data : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (bytes.byteLength !== expected) {
      throw new Error(`writeSafetensors: tensor ${JSON.stringify(t.name)}: ${bytes.byteLength} bytes for ${t.dtype} ${JSON.stringify(t.shape)}, expected ${expected}`);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    views.push(bytes);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const v of views) {
    out.set(v, at);
    at += v.byteLength;
  }
  return out;
}
