// Thrift compact protocol, decode only: Parquet's footer and page headers are compact-encoded structs.
// Structs decode into plain objects keyed by field id; parquet/metadata.ts gives them names.

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftValue[] | ThriftStruct | Map<ThriftValue, ThriftValue>;
export interface ThriftStruct {
  [fieldId: number]: ThriftValue;
}

const T_STOP = 0;
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

export class ThriftError extends Error {}

export class CompactReader {
  pos: number;
  private view: DataView;

  constructor(
    private buf: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ThriftError('thrift data ends early');
    return this.buf[this.pos++];
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
    throw new ThriftError('varint too long');
  }

  private varbig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
    throw new ThriftError('varint too long');
  }

  private zigzag(): number {
    const n = this.varint();
    // n can exceed 2^31, so no bit operators here.
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private i64(): number | bigint {
    const u = this.varbig();
    const v = (u >> 1n) ^ -(u & 1n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private binary(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new ThriftError('thrift binary runs past the end');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T_I16:
      case T_I32:
        return this.zigzag();
      case T_I64:
        return this.i64();
      case T_DOUBLE: {
        if (this.pos + 8 > this.buf.length) throw new ThriftError('thrift data ends early');
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_BINARY:
        return this.binary();
      case T_LIST:
      case T_SET: {
        const h = this.byte();
        let size = h >> 4;
        const et = h & 0x0f;
        if (size === 15) size = this.varint();
        const out: ThriftValue[] = [];
        for (let i = 0; i < size; i++) {
          // Booleans inside containers take a whole byte.
          if (et === T_TRUE || et === T_FALSE) out.push(this.byte() === 1);
          else out.push(this.value(et));
        }
        return out;
      }
      case T_MAP: {
        const size = this.varint();
        const m = new Map<ThriftValue, ThriftValue>();
        if (size === 0) return m;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          const k = this.value(kv >> 4);
          m.set(k, this.value(kv & 0x0f));
        }
        return m;
      }
      case T_STRUCT:
        return this.struct();
      default:
        throw new ThriftError(`unknown thrift type ${type}`);
    }
  }

  struct(): ThriftStruct {
    const out: ThriftStruct = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      const type = h & 0x0f;
      if (type === T_STOP) return out;
      const delta = h >> 4;
      const id = delta ? last + delta : this.zigzag();
      last = id;
      out[id] = this.value(type);
    }
  }
}

export function readStruct(buf: Uint8Array, offset = 0): { value: ThriftStruct; end: number } {
  const r = new CompactReader(buf, offset);
  const value = r.struct();
  return { value, end: r.pos };
}
