// A GGUF v3 writer, for tests and small exports: metadata with explicit types, tensors already encoded.
import { concatBytes } from '../util/bytes.ts';
import { GGML_BLOCK, GGUF_MAGIC, GgmlType, GgufValueType } from './gguf.ts';

export type GgufEntry =
  | { key: string; type: Exclude<GgufValueType, GgufValueType.ARRAY>; value: number | bigint | boolean | string }
  | { key: string; type: GgufValueType.ARRAY; itemType: Exclude<GgufValueType, GgufValueType.ARRAY>; value: (number | bigint | boolean | string)[] };

export interface GgufTensorToWrite {
  name: string;
  type: GgmlType;
  /** ggml order: dims[0] is the contiguous dimension. */
  dims: number[];
  data: Uint8Array;
}

class Out {
  private chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.byteLength;
  }
  private num(n: number, set: (dv: DataView) => void): void {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    this.bytes(b);
  }
  u32(v: number): void { this.num(4, (d) => d.setUint32(0, v, true)); }
  u64(v: number | bigint): void { this.num(8, (d) => d.setBigUint64(0, BigInt(v), true)); }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.byteLength);
    this.bytes(b);
  }
  scalar(type: GgufValueType, v: number | bigint | boolean | string): void {
    switch (type) {
      case GgufValueType.UINT8: return this.num(1, (d) => d.setUint8(0, Number(v)));
      case GgufValueType.INT8: return this.num(1, (d) => d.setInt8(0, Number(v)));
      case GgufValueType.UINT16: return this.num(2, (d) => d.setUint16(0, Number(v), true));
      case GgufValueType.INT16: return this.num(2, (d) => d.setInt16(0, Number(v), true));
      case GgufValueType.UINT32: return this.num(4, (d) => d.setUint32(0, Number(v), true));
      case GgufValueType.INT32: return this.num(4, (d) => d.setInt32(0, Number(v), true));
      case GgufValueType.FLOAT32: return this.num(4, (d) => d.setFloat32(0, Number(v), true));
      case GgufValueType.BOOL: return this.num(1, (d) => d.setUint8(0, v ? 1 : 0));
      case GgufValueType.UINT64: return this.num(8, (d) => d.setBigUint64(0, BigInt(v), true));
      case GgufValueType.INT64: return this.num(8, (d) => d.setBigInt64(0, BigInt(v), true));
      case GgufValueType.FLOAT64: return this.num(8, (d) => d.setFloat64(0, Number(v), true));
      case GgufValueType.STRING: return this.string(String(v));
      default: throw new Error(`writeGguf: cannot write value type ${type} as a scalar`);
    }
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    if (n) this.bytes(new Uint8Array(n));
  }
  concat(): Uint8Array {
    return concatBytes(this.chunks, this.length);
  }
}

export function writeGguf(entries: GgufEntry[], tensors: GgufTensorToWrite[], opts: { version?: 2 | 3; alignment?: number } = {}): Uint8Array {
  const alignment = opts.alignment ?? 32;
  const o = new Out();
  o.u32(GGUF_MAGIC);
  o.u32(opts.version ?? 3);
  o.u64(tensors.length);
  const all = entries.some((e) => e.key === 'general.alignment') || alignment === 32
    ? entries
    : [...entries, { key: 'general.alignment', type: GgufValueType.UINT32, value: alignment } as GgufEntry];
  o.u64(all.length);
  for (const e of all) {
    o.string(e.key);
    o.u32(e.type);
    if (e.type === GgufValueType.ARRAY) {
      o.u32(e.itemType);
      o.u64(e.value.length);
      for (const v of e.value) o.scalar(e.itemType, v);
    } else o.scalar(e.type, e.value);
  }
  let offset = 0;
  for (const t of tensors) {
    const [blk, size] = GGML_BLOCK[t.type]!;
    const expected = (t.dims.reduce((a, b) => a * b, 1) / blk) * size;
    if (t.data.byteLength !== expected) throw new Error(`writeGguf: tensor ${JSON.stringify(t.name)}: ${t.data.byteLength} bytes, expected ${expected}`);
    o.string(t.name);
    o.u32(t.dims.length);
    for (const d of t.dims) o.u64(d);
    o.u32(t.type);
    o.u64(offset);
    offset += Math.ceil(t.data.byteLength / alignment) * alignment;
  }
  o.pad(alignment);
  for (const t of tensors) {
    o.bytes(t.data);
    o.pad(alignment);
  }
  return o.concat();
}
