// Base weights as f32 host arrays for the ONNX exporter, optionally passed through the storage format the
// engine trains on (--quant), so the exported model computes what the engine computed, not the pristine base.
import { bf16BitsToF32, decodeWeight, encodeWeight, f16BitsToF32, roundF16, type WeightType } from '../kernels/quant/formats.ts';
import { weightTypes, type BaseQuant, type HostTensor, type TensorReader } from '../model/model.ts';

const QUANT_DTYPES: Record<string, WeightType> = { Q8_0: 'q8_0', Q4_0: 'q4_0' };

/** The tensor's values as f32, whatever its stored dtype. */
export function hostToF32(t: HostTensor, name: string): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const q = QUANT_DTYPES[t.dtype];
  if (q) return Float32Array.from(decodeWeight(q, t.data, t.shape[0], t.shape[1]));
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(dv.getUint16(i * 2, true));
      return out;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(dv.getUint16(i * 2, true));
      return out;
    default:
      throw new Error(`${name}: dtype ${String(t.dtype)} cannot be exported to ONNX`);
  }
}

export class BaseWeights {
  private readonly types: { linear: WeightType; embed: WeightType };

  constructor(
    readonly reader: TensorReader,
    readonly quant: BaseQuant,
  ) {
    this.types = weightTypes(quant);
  }

  private async read(name: string, shape: number[]): Promise<HostTensor> {
    if (!this.reader.has(name)) throw new Error(`${this.reader.source}: tensor ${name} is missing`);
    const t = await this.reader.read(name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${this.reader.source}: ${name}: shape [${t.shape}] disagrees with config.json, expected [${shape}]`);
    }
    return t;
  }

  /** A (rows, K) matrix as the engine's kernels see it: stored in `kind`'s type for this quant, dequantized. */
  async matrix(name: string, rows: number, K: number, kind: 'linear' | 'embed'): Promise<Float32Array> {
    const type = this.types[kind];
    const t = await this.read(name, [rows, K]);
    // Already in the target type (a GGUF file, or f32 for f32): its values are exactly what the engine uses.
    if (QUANT_DTYPES[t.dtype] === type || (t.dtype === 'F32' && type === 'f32') || (t.dtype === 'F16' && type === 'f16')) return hostToF32(t, name);
    const f = hostToF32(t, name);
    if (type === 'f32') return f;
    return Float32Array.from(decodeWeight(type, encodeWeight(type, f, rows, K), rows, K));
  }

  /** Norm weights and biases: f32, rounded to f16 for a half base as the engine (and PyTorch's .half()) do. */
  async vector(name: string, n: number): Promise<Float32Array> {
    const v = hostToF32(await this.read(name, [n]), name);
    return this.quant === 'f16' ? v.map(roundF16) : v;
  }
}
