import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { kernelEnv } from '../../src/kernels/env.ts';
import { halfWeights, matmulShader } from '../../src/kernels/matmul/matmul.ts';
import { gpu } from '../util/gpu.ts';
import { checkMatmul, shapes } from './matmul.case.ts';
import { eachVariant, forceEnv, type EnvPatch } from './op.ts';

// The workgroup-memory variant (real GPUs), forced here; kept apart from matmul.test.ts so the two files' pipeline
// compiles run in parallel. Its dequantized weights are `hf`: f32 here unless the device has shader-f16.
// SwiftShader has none, so there the f16 instantiation is checked by the text test below and by review only: the
// 'shared f16' cases run wherever a device has shader-f16 (a real GPU), with the f16 rounding's bound added.
describe('matmul shared', async () => {
  const caps = (await gpu()).caps;
  const variants: Record<string, EnvPatch> = {
    shared: { matmul: { variant: 'shared', f16: false } },
    ...(caps.f16 ? { 'shared f16': { matmul: { variant: 'shared', f16: true } } } : {}),
  };
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    eachVariant(variants, `${type} forward and backward-input match the reference`, async (v) => {
      for (const c of shapes[type]) await checkMatmul(type, c, true, v === 'shared f16' && type !== 'f32');
      // The forced instantiation is the one that ran.
      const f16 = v === 'shared f16' && type !== 'f32';
      expect((await gpu()).pipelineIds.some((id) => id.includes('VARIANT=shared') && id.includes(`TYPE=${type},`) && id.includes(`F16=${f16}`))).toBe(true);
    });
  }

  it('the f16 instantiation differs from the tested f32 one only in the lines that declare hf', () => {
    for (const TYPE of ['f16', 'q8_0', 'q4_0'] as const)
      for (const FORWARD of [true, false]) {
        type D = Parameters<typeof matmulShader.build>[0];
        const build = (F16: boolean) => matmulShader.build({ VARIANT: 'shared', FORWARD, TYPE, HAS_BIAS: FORWARD, ACCUM: !FORWARD, F16 } as unknown as D);
        const half = build(true).split('\n');
        const full = build(false).split('\n');
        expect(half.slice(0, 2)).toEqual(['enable f16;', 'alias hf = f16;']);
        expect(full[0]).toBe('alias hf = f32;');
        expect(half.slice(2)).toEqual(full.slice(1));
        // ... and the rest of that text does hold its weights as hf: dequantized by the *_h loaders, kept in Bs.
        const body = full.slice(1).join('\n');
        expect(body).toMatch(/var<workgroup> Bs: array<hf, 512>;/);
        expect(body).toMatch(/w_load4_h\(n, k, K\)/);
        expect(body.replace(/\/\/.*$/gm, '')).not.toMatch(/\bf16\b/);
      }
  });

  it('f16 weights only with shader-f16, never for an f32 weight; forcing it without the feature is an error', () => {
    const fake = (f16: boolean) => ({ caps: { ...caps, f16 } }) as GpuContext;
    expect(halfWeights(fake(true), 'q4_0')).toBe(true);
    expect(halfWeights(fake(true), 'q8_0')).toBe(true);
    expect(halfWeights(fake(true), 'f16')).toBe(true);
    expect(halfWeights(fake(true), 'f32')).toBe(false);
    expect(halfWeights(fake(false), 'q4_0')).toBe(false);
    forceEnv({ matmul: { f16: false } });
    expect(halfWeights(fake(true), 'q4_0')).toBe(false);
    kernelEnv.matmul.f16 = true;
    expect(halfWeights(fake(true), 'q8_0')).toBe(true);
    expect(() => halfWeights(fake(false), 'q8_0')).toThrow(/shader-f16/);
  });
});
