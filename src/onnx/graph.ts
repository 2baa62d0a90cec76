// A small ONNX graph builder: nodes named and numbered as they are added, initializers from typed arrays,
// and a few helpers for the constants every graph needs (int64 shapes and axes, f32 scalars).
import { DataType, modelProto, type AttrValue, type Dim, type NodeData, type TensorData, type ValueInfo } from './proto.ts';

/** Opset 17: LayerNormalization-era ops, ReduceMean's axes still an attribute; ORT 1.30 runs it everywhere. */
export const OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (onnx/docs/Versioning.md). */
export const IR_VERSION = 8;

export const attr = {
  int: (v: number): AttrValue => ({ int: v }),
  float: (v: number): AttrValue => ({ float: v }),
  ints: (v: readonly number[]): AttrValue => ({ ints: v }),
};

function bytesOf(a: Float32Array | BigInt64Array | Uint8Array | Int8Array): Uint8Array {
  // raw_data is little-endian; every platform this runs on is too, so the array's bytes are the wire bytes.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class GraphBuilder {
  readonly nodes: NodeData[] = [];
  readonly initializers: TensorData[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private counter = 0;
  private readonly consts = new Map<string, string>();

  constructor(readonly name: string) {}

  /** Adds a node; returns its output names ("<prefix>/<op>_<n>" unless given). */
  op(opType: string, inputs: readonly string[], opts: { attrs?: Record<string, AttrValue>; name?: string; outputs?: number | string[] } = {}): string[] {
    const id = `${opts.name ?? opType}_${this.counter++}`;
    const outputs = Array.isArray(opts.outputs) ? opts.outputs : Array.from({ length: opts.outputs ?? 1 }, (_, i) => (i ? `${id}:${i}` : id));
    this.nodes.push({ opType, inputs, outputs, name: id, attrs: opts.attrs });
    return outputs;
  }

  /** A single-output node. */
  op1(opType: string, inputs: readonly string[], attrs?: Record<string, AttrValue>, name?: string): string {
    return this.op(opType, inputs, { attrs, name })[0];
  }

  f32(name: string, dims: readonly number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`onnx initializer ${name}: ${data.length} values for shape [${dims}]`);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw: bytesOf(data) });
    return name;
  }

  i8(name: string, dims: readonly number[], data: Int8Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`onnx initializer ${name}: ${data.length} values for shape [${dims}]`);
    this.initializers.push({ name, dataType: DataType.INT8, dims, raw: bytesOf(data) });
    return name;
  }

  i64(name: string, dims: readonly number[], data: readonly number[]): string {
    this.initializers.push({ name, dataType: DataType.INT64, dims, raw: bytesOf(BigInt64Array.from(data, (v) => BigInt(v))) });
    return name;
  }

  /** A shared int64 1-D constant (shapes, axes, slice bounds), created once per distinct value. */
  ints(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.i64(`const_i64_${values.map((v) => (v < 0 ? `m${-v}` : v)).join('_')}`, [values.length], values);
      this.consts.set(key, name);
    }
    return name;
  }

  /** A shared f32 scalar constant. */
  scalar(v: number): string {
    const key = `f:${v}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.f32(`const_f32_${this.consts.size}`, [], Float32Array.of(v));
      this.consts.set(key, name);
    }
    return name;
  }

  input(name: string, elemType: ValueInfo['elemType'], shape: readonly Dim[]): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` a graph output under `name` (an Identity when the names differ). */
  output(name: string, value: string, elemType: ValueInfo['elemType'], shape: readonly Dim[]): void {
    if (value !== name) this.op('Identity', [value], { outputs: [name] });
    this.outputs.push({ name, elemType, shape });
  }

  serialize(meta: { producerName: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    return modelProto({
      irVersion: IR_VERSION,
      opset: OPSET,
      producerName: meta.producerName,
      docString: meta.docString,
      metadata: meta.metadata,
      graph: { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs },
    });
  }
}
