import type { Defines } from '../../gpu/wgsl.ts';
import type { WeightType } from './formats.ts';
import weightsWgsl from './weights.wgsl?raw';

/** Defines that select a weight type in weights.wgsl (and in kernels that branch on it). */
export function weightDefines(type: WeightType): Defines {
  return {
    W_F32: type === 'f32', W_F16: type === 'f16', W_Q8_0: type === 'q8_0', W_Q4_0: type === 'q4_0',
    // Kernels that walk whole 32-element blocks (one f16 scale per block) branch on this.
    W_QUANT: type === 'q8_0' || type === 'q4_0',
  };
}

/** The loader snippet source; preprocess it together with the kernel's own source. */
export const weightLoaderSource = weightsWgsl;

/**
 * The lines that declare `hf` for weights.wgsl's *_h loaders (define HF): f16 under `enable f16;` (devices with
 * shader-f16 only), else f32. Placed first in the module, as `enable` must be; nothing else in a kernel's text
 * depends on which, so the f32 instantiation a CPU adapter runs is the f16 kernel's own code.
 */
export function halfHeader(f16: boolean): string {
  return f16 ? 'enable f16;\nalias hf = f16;\n' : 'alias hf = f32;\n';
}
