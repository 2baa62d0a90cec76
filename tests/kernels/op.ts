// One helper for kernel tests, in the spirit of tinygrad's helper_test_op: upload the inputs, poison every
// output, record the kernel(s), submit, read every output back and compare it with the float64 reference (or exact
// bytes), over one step or several on the same buffers;
// checkRefGrad checks a reference's gradient against central finite differences; eachVariant runs a test once per
// forced kernelEnv setting. A test then says only its shapes, its reference and its tolerances.
import { afterEach, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import type { Recorder } from '../../src/gpu/recorder.ts';
import { kernelEnv, resetKernelEnv, type KernelEnv } from '../../src/kernels/env.ts';
import { expectClose, numericGrad, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';

afterEach(resetKernelEnv);

/**
 * What an output is compared with: the reference and its tolerances (|got - ref| <= atol + rtol·|ref|), or, for
 * encoders whose output is a byte format (quantized weights), the exact bytes.
 */
export type Want =
  | {
    ref: ArrayLike<number>; atol: number; rtol: number;
    /** Elements the kernel must not write (e.g. rows it was not asked for): they must still hold the poison. */
    untouched?: (i: number) => boolean;
  }
  | { bytes: Uint8Array };

/** What GpuContext.poison writes into every word (a quiet NaN no kernel computes). */
export const POISON_BITS = 0x7fc00000 | 0xdead;

export interface OpCase<I extends string, O extends string> {
  /** Host inputs, uploaded as they are (typed arrays: f32, u32, raw bytes) or as f32 (number arrays). */
  inputs: Record<I, ArrayLike<number>>;
  /** Outputs: an element count (f32, poisoned with NaN first), or initial contents for kernels that add into them. */
  outputs: Record<O, number | ArrayLike<number>>;
  /**
   * Runs (and checks) the case this many times on the same buffers, so state such as optimizer moments carries
   * from one step to the next; `run` may rewrite inputs for its step with ctx.write. Default 1.
   */
  steps?: number;
  /** Names the case in failure messages, where one test runs several (e.g. `f16->q4_0 rows=3 K=32`). */
  label?: string;
  /** Records the kernel(s) on the buffers, by name, for step 1, 2, … */
  run(rec: Recorder, b: Record<I | O, GPUBuffer>, ctx: GpuContext, step: number): void;
  /** The outputs to compare after each step, each with its reference (the output's first ref.length elements). */
  want: Partial<Record<O, Want>> | ((got: Record<O, Float32Array>, step: number) => Partial<Record<O, Want>>);
}

function hostData(a: ArrayLike<number>): ArrayBufferView {
  return ArrayBuffer.isView(a) && !(a instanceof Float64Array) ? a : Float32Array.from(a);
}

/** Where two byte strings first differ ('identical' if nowhere), for a message that says which byte. */
export function firstDiff(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  const i = a.findIndex((v, j) => v !== b[j]);
  return i < 0 ? 'identical' : `byte ${i}: got ${a[i]}, want ${b[i]} (${a.length} bytes)`;
}

function compare(what: string, got: Float32Array, w: Want): void {
  if ('bytes' in w) expect(firstDiff(new Uint8Array(got.buffer, got.byteOffset, w.bytes.length), w.bytes), what).toBe('identical');
  else if (!w.untouched) expectClose(got.subarray(0, w.ref.length), w.ref, w.atol, w.rtol, what);
  else {
    const untouched = w.untouched;
    const bits = new Uint32Array(got.buffer, got.byteOffset, w.ref.length);
    const written = bits.findIndex((b, i) => untouched(i) && b !== POISON_BITS);
    if (written >= 0) expect.fail(`${what}: element ${written} should have been left alone but was written`);
    const checked = [...bits.keys()].filter((i) => !untouched(i));
    expectClose(checked.map((i) => got[i]), checked.map((i) => w.ref[i]), w.atol, w.rtol, what);
  }
}

/** Runs one case on the test file's GPU context; returns what every output held, for further checks. */
export async function checkOp<I extends string, O extends string>(c: OpCase<I, O>): Promise<Record<O, Float32Array>> {
  const ctx = await gpu();
  const bufs = {} as Record<I | O, GPUBuffer>;
  for (const [name, data] of Object.entries(c.inputs) as [I, ArrayLike<number>][]) bufs[name] = ctx.upload(name, hostData(data));
  for (const [name, spec] of Object.entries(c.outputs) as [O, number | ArrayLike<number>][]) {
    if (typeof spec === 'number') {
      bufs[name] = ctx.buffer(name, spec * 4);
      ctx.poison(bufs[name]);
    } else bufs[name] = ctx.upload(name, hostData(spec));
  }
  try {
    const steps = c.steps ?? 1;
    const got = {} as Record<O, Float32Array>;
    for (let step = 1; step <= steps; step++) {
      const rec = ctx.recorder();
      c.run(rec, bufs, ctx, step);
      await rec.submit();
      for (const name of Object.keys(c.outputs) as O[]) got[name] = await ctx.readF32(bufs[name]);
      const want = typeof c.want === 'function' ? c.want(got, step) : c.want;
      for (const [name, w] of Object.entries(want) as [O, Want][]) compare([c.label, name, steps > 1 ? `step ${step}` : ''].filter(Boolean).join(' '), got[name], w);
    }
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
