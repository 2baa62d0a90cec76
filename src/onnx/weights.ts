// Base weights as f32 host arrays for the ONNX exporter, optionally passed through the storage format the
// engine trains on (--quant), so the exported model computes what the engine computed, not the pristine base.
import { decodeWeight, encodeWeight, roundF16, type WeightType } from '../kernels/quant/formats.ts';
import { hostToF32, weightTypes, type Quant, type HostTensor, type TensorReader } from '../model/model.ts';


export class BaseWeights {
  private readonly types: { linear: WeightType; embed: WeightType };

  constructor(
    readonly reader: TensorReader,
    readonly quant: Quant,
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
    if (t.dtype.toLowerCase() === type) return hostToF32(t, name);
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
