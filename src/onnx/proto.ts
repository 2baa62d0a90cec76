// A minimal protobuf writer for the ONNX messages this project emits (ModelProto and what it contains).
// Hand-written rather than generated: the exporter needs ~10 messages and must run in the browser without a
// protobuf runtime. Field numbers are those of onnx/onnx.proto (proto2, stable across IR versions); each
// encoder below cites them. Wire types: 0 varint, 2 length-delimited, 5 fixed32.
//
// Messages are built as lists of byte chunks with a known total length, so a multi-megabyte raw_data
// initializer is copied once, into the final buffer, however deeply it is nested.

import { concatBytes } from '../util/bytes.ts';

export class Chunks {
  parts: Uint8Array[] = [];
  length = 0;

  push(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  append(c: Chunks): this {
    for (const p of c.parts) this.parts.push(p);
    this.length += c.length;
    return this;
  }

  concat(): Uint8Array {
    return concatBytes(this.parts, this.length);
  }
}

/** Base-128 varint; negative int64 values are written as their 64-bit two's complement (10 bytes). */
export function varint(v: number | bigint): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v));
  if (x < 0x80n) return Uint8Array.of(Number(x));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const utf8 = new TextEncoder();

/** A message under construction: fields appended in any order (protobuf allows it; ONNX readers accept it). */
export class Message extends Chunks {
  private tag(field: number, wire: number): void {
    this.push(varint((field << 3) | wire));
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    return this.push(varint(v));
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.push(b);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(b.length));
    return this.push(b);
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: Chunks): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(m.length));
    return this.append(m);
  }

  /** A repeated int64 field, unpacked: onnx.proto (proto2) does not declare dims or ints packed, and while
   *  parsers accept either form, the unpacked one is what the schema literally says. */
  ints(field: number, vs: readonly (number | bigint)[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }
}

// ---- ONNX messages ------------------------------------------------------------------------------------------

/** TensorProto.DataType values (onnx.proto: FLOAT = 1, INT8 = 3, INT64 = 7, BOOL = 9). */
export const DataType = { FLOAT: 1, INT8: 3, INT64: 7, BOOL: 9 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

export interface TensorData {
  name: string;
  dataType: DataTypeId;
  dims: readonly number[];
  /** Little-endian element bytes, as TensorProto.raw_data wants them. */
  raw: Uint8Array;
}

/** TensorProto: dims = 1 (repeated int64), data_type = 2, name = 8, raw_data = 9. */
export function tensorProto(t: TensorData): Message {
  const m = new Message().ints(1, t.dims);
  m.int(2, t.dataType);
  m.string(8, t.name);
  return m.bytes(9, t.raw);
}

/** A dimension: a fixed size or a symbolic name (TensorShapeProto.Dimension: dim_value = 1, dim_param = 2). */
export type Dim = number | string;

/** ValueInfoProto (name = 1, type = 2) of a tensor: TypeProto.tensor_type = 1 → Tensor (elem_type = 1, shape = 2)
 *  → TensorShapeProto (dim = 1). */
export function valueInfoProto(name: string, elemType: DataTypeId, shape: readonly Dim[]): Message {
  const dims = new Message();
  for (const d of shape) {
    const dim = new Message();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    dims.message(1, dim);
  }
  const tensor = new Message().int(1, elemType).message(2, dims);
  const type = new Message().message(1, tensor);
  return new Message().string(1, name).message(2, type);
}

export type AttrValue = { int: number } | { float: number } | { ints: readonly number[] } | { string: string } | { tensor: TensorData };

/**
 * AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, ints = 8, type = 20
 * (AttributeType FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, INTS = 7).
 */
export function attributeProto(name: string, v: AttrValue): Message {
  const m = new Message().string(1, name);
  if ('int' in v) return m.int(3, v.int).int(20, 2);
  if ('float' in v) return m.float(2, v.float).int(20, 1);
  if ('string' in v) return m.string(4, v.string).int(20, 3);
  if ('tensor' in v) return m.message(5, tensorProto(v.tensor)).int(20, 4);
  return m.ints(8, v.ints).int(20, 7);
}

export interface NodeData {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
export function nodeProto(n: NodeData): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.message(5, attributeProto(k, v));
  return m;
}

export interface ValueInfo {
  name: string;
  elemType: DataTypeId;
  shape: readonly Dim[];
}

export interface GraphData {
  name: string;
  nodes: readonly NodeData[];
  initializers: readonly TensorData[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

/** GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12. */
export function graphProto(g: GraphData): Message {
  const m = new Message();
  for (const n of g.nodes) m.message(1, nodeProto(n));
  m.string(2, g.name);
  for (const t of g.initializers) m.message(5, tensorProto(t));
  for (const v of g.inputs) m.message(11, valueInfoProto(v.name, v.elemType, v.shape));
  for (const v of g.outputs) m.message(12, valueInfoProto(v.name, v.elemType, v.shape));
  return m;
}

export interface ModelData {
  graph: GraphData;
  /** The default ("ai.onnx") opset version. */
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/**
 * ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
 * opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2), metadata_props = 14 (StringStringEntryProto:
 * key = 1, value = 2).
 */
export function modelProto(d: ModelData): Uint8Array {
  const m = new Message().int(1, d.irVersion);
  m.string(2, d.producerName);
  if (d.producerVersion) m.string(3, d.producerVersion);
  if (d.docString) m.string(6, d.docString);
  m.message(7, graphProto(d.graph));
  m.message(8, new Message().string(1, '').int(2, d.opset));
  for (const [k, v] of Object.entries(d.metadata ?? {})) m.message(14, new Message().string(1, k).string(2, v));
  return m.concat();
}
