// One helper for kernel tests, in the spirit of tinygrad's helper_test_op: upload the inputs, poison every
// output, record the kernel(s), submit, read every output back and compare it with the float64 reference;
// checkRefGrad checks a reference's gradient against central finite differences; eachVariant runs a test once per
// forced kernelEnv setting. A test then says only its shapes, its reference and its tolerances.
import { afterEach, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import type { Recorder } from '../../src/gpu/recorder.ts';
import { kernelEnv, resetKernelEnv, type KernelEnv } from '../../src/kernels/env.ts';
import { expectClose, numericGrad, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

afterEach(resetKernelEnv);

/** What an output is compared with: the reference and its tolerances (|got - ref| <= atol + rtol·|ref|). */
export type Want = { ref: ArrayLike<number>; atol: number; rtol: number };

export interface OpCase<I extends string, O extends string> {
  /** Host inputs, uploaded as they are (Float32Array, Uint32Array) or as f32 (number arrays). */
  inputs: Record<I, ArrayLike<number>>;
  /** Outputs: an element count (f32, poisoned with NaN first), or initial contents for kernels that add into them. */
  outputs: Record<O, number | ArrayLike<number>>;
  /** Records the kernel(s) on the buffers, by name. */
  run(rec: Recorder, b: Record<I | O, GPUBuffer>, ctx: GpuContext): void;
  /** The outputs to compare, each with its reference (the output's first ref.length elements are read). */
  want: Partial<Record<O, Want>> | ((got: Record<O, Float32Array>) => Partial<Record<O, Want>>);
}

function f32(a: ArrayLike<number>): Float32Array | Uint32Array {
  return a instanceof Float32Array || a instanceof Uint32Array ? a : Float32Array.from(a);
}

/** Runs one case on the test file's GPU context; returns what every output held, for further checks. */
export async function checkOp<I extends string, O extends string>(c: OpCase<I, O>): Promise<Record<O, Float32Array>> {
  const ctx = await gpu();
  const bufs = {} as Record<I | O, GPUBuffer>;
  for (const [name, data] of Object.entries(c.inputs) as [I, ArrayLike<number>][]) bufs[name] = ctx.upload(name, f32(data));
  for (const [name, spec] of Object.entries(c.outputs) as [O, number | ArrayLike<number>][]) {
    if (typeof spec === 'number') {
      bufs[name] = ctx.buffer(name, spec * 4);
      ctx.poison(bufs[name]);
    } else bufs[name] = ctx.upload(name, f32(spec));
  }
  try {
    const rec = ctx.recorder();
    c.run(rec, bufs, ctx);
    await rec.submit();
    const got = {} as Record<O, Float32Array>;
    for (const name of Object.keys(c.outputs) as O[]) got[name] = await ctx.readF32(bufs[name]);
    const want = typeof c.want === 'function' ? c.want(got) : c.want;
    for (const [name, w] of Object.entries(want) as [O, Want][]) expectClose(got[name].subarray(0, w.ref.length), w.ref, w.atol, w.rtol, name);
    return got;
  } finally {
    for (const b of Object.values(bufs) as GPUBuffer[]) ctx.release(b);
  }
}

/**
 * The reference's gradient `grad` of the scalar `f` at `x` against central finite differences (float64):
 * checks every element, or `indices` of them.
 */
export function checkRefGrad(what: string, f: (x: Float64Array) => number, x: ArrayLike<number>, grad: ArrayLike<number>, atol = 1e-8, rtol = 1e-6, indices?: number[]): void {
  const at = toF64(x);
  const want = indices ? indices.map((i) => grad[i]) : grad;
  expectClose(numericGrad(f, at, indices), want, atol, rtol, what);
}

export type EnvPatch = { [K in keyof KernelEnv]?: KernelEnv[K] extends object ? Partial<KernelEnv[K]> : KernelEnv[K] };

/** Applies a patch to kernelEnv (reset after each test by this module's afterEach). */
export function forceEnv(patch: EnvPatch): void {
  for (const [k, v] of Object.entries(patch) as [keyof KernelEnv, unknown][]) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(kernelEnv[k] as object, v);
    else (kernelEnv as unknown as Record<string, unknown>)[k] = v;
  }
}

/** One test per forced variant: `name (variant)`, with kernelEnv patched for its run. */
export function eachVariant(variants: Record<string, EnvPatch>, name: string, body: (variant: string) => Promise<unknown>, timeout?: number): void {
  for (const [v, patch] of Object.entries(variants)) {
    it(`${name} (${v})`, async () => {
      forceEnv(patch);
      await body(v);
    }, timeout);
  }
}
