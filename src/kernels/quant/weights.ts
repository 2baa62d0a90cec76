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
