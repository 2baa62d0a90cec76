import { describe, expect, it } from 'vitest';
import { BYTES_PER_WEIGHT, availableBytes, estimateMemory, fitOf, moduleShapes, resolveTargets } from '../../src/ui/lib/memory.ts';
import { catalogModel, dimsFromInfo } from '../../src/ui/lib/models.ts';

const alma7b = catalogModel('haoranxu/ALMA-7B')!.dims;

describe('memory estimate', () => {
  it('stores weights at the quantized rate', () => {
    expect(BYTES_PER_WEIGHT.q4_0).toBeCloseTo(0.5625);
    expect(BYTES_PER_WEIGHT.q8_0).toBeCloseTo(1.0625);
    const q4 = estimateMemory({ dims: alma7b, quant: 'q4_0', batchSize: 1, maxLength: 512, r: 16, targets: ['down_proj'] });
    const f16 = estimateMemory({ dims: alma7b, quant: 'f16', batchSize: 1, maxLength: 512, r: 16, targets: ['down_proj'] });
    // Llama-2 7B has 6.74e9 weights.
    expect(f16.baseBytes / 2).toBeGreaterThan(6.7e9);
    expect(f16.baseBytes / 2).toBeLessThan(6.8e9);
    expect(q4.baseBytes / f16.baseBytes).toBeCloseTo(0.5625 / 2, 2);
  });

  it('counts LoRA parameters as PEFT does', () => {
    // PEFT, Llama-2 7B, r 16 on down_proj: 32 layers × 16 × (11008 + 4096) = 7,733,248.
    const e = estimateMemory({ dims: alma7b, quant: 'q4_0', batchSize: 1, maxLength: 512, r: 16, targets: ['down_proj'] });
    expect(e.loraParams).toBe(7_733_248);
    expect(e.loraBytes).toBe(7_733_248 * 16);
    // all-linear r 8 on Llama-2 7B: 19,988,480 trainable parameters.
    expect(estimateMemory({ dims: alma7b, quant: 'q4_0', batchSize: 1, maxLength: 512, r: 8, targets: 'all-linear' }).loraParams).toBe(19_988_480);
  });

  it('scales activations with 2 × batch × length', () => {
    const d = alma7b;
    const a = estimateMemory({ dims: d, quant: 'q4_0', batchSize: 1, maxLength: 512, r: 16, targets: ['down_proj'] });
    const b = estimateMemory({ dims: d, quant: 'q4_0', batchSize: 2, maxLength: 512, r: 16, targets: ['down_proj'] });
    const M = 2 * 512;
    expect(a.activationBytes).toBe((d.L + 1) * M * d.C * 4);
    expect(a.scratchBytes).toBe(M * (6 * d.C + 3 * d.F + 2 * d.H * d.D) * 4);
    expect(b.activationBytes).toBe(2 * a.activationBytes);
    expect(a.totalBytes).toBe(a.baseBytes + a.loraBytes + a.activationBytes + a.scratchBytes);
  });

  it('names the largest buffer', () => {
    const qwen = catalogModel('Qwen/Qwen2.5-0.5B-Instruct')!.dims;
    const e = estimateMemory({ dims: qwen, quant: 'f16', batchSize: 1, maxLength: 128, r: 8, targets: 'all-linear' });
    expect(e.largestBufferWhat).toBe('embedding table');
    expect(e.largestBufferBytes).toBe(151936 * 896 * 2);
  });

  it('resolves targets and shapes', () => {
    expect(resolveTargets('all-linear')).toHaveLength(7);
    expect(resolveTargets(['v_proj', 'q_proj', 'bogus'])).toEqual(['q_proj', 'v_proj']);
    expect(moduleShapes(alma7b).down_proj).toEqual([11008, 4096]);
  });

  it('judges fit and available memory', () => {
    expect(fitOf(50, 100)).toBe('fits');
    expect(fitOf(90, 100)).toBe('tight');
    expect(fitOf(101, 100)).toBe('too-big');
    expect(availableBytes(8)).toBe(4 * 1024 ** 3);
    expect(availableBytes(undefined)).toBe(4 * 1024 ** 3);
  });

  it('derives dims from a loaded model', () => {
    const d = dimsFromInfo({ layers: 32, hidden: 4096, heads: 32, kvHeads: 32, vocab: 32000 });
    expect(d.D).toBe(128);
    expect(d.F).toBe(11008);
  });
});
