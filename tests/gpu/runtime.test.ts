// The GPU runtime: WGSL preprocessing, row splitting, the pipeline cache, typed errors, device loss.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.ts';
import { DeviceLostError, GpuError } from '../../src/gpu/errors.ts';
import { splitRows } from '../../src/gpu/split.ts';
import { gpuWait } from '../../src/gpu/wait.ts';
import { preprocess, shaderKey } from '../../src/gpu/wgsl.ts';
import { SHADERS } from '../../src/kernels/shaders.ts';
import { gegluForward } from '../../src/kernels/geglu/geglu.ts';
import { swigluForward } from '../../src/kernels/swiglu/swiglu.ts';
import { gpu } from '../util/gpu.ts';

describe('wgsl preprocess', () => {
  const src = ['a', '#if X', 'x', '#if Y', 'xy', '#else', 'x!y', '#endif', '#elif Z', 'z', '#else', 'none', '#endif', 'n={{N}}'].join('\n');
  it.each([
    [{ X: true, Y: true, N: 1 }, 'a x xy n=1'],
    [{ X: true, N: 2 }, 'a x x!y n=2'],
    [{ Z: 1, N: 3 }, 'a z n=3'],
    [{ N: 4 }, 'a none n=4'],
  ])('%j', (defines, want) => {
    expect(preprocess(src, defines).split('\n').join(' ')).toBe(want);
  });
  it('indents a multi-line generated block to its placeholder and substitutes inline ones as they are', () => {
    expect(preprocess('fn f() {\n    {{BODY}}\n  let x = {{N}}u;\n}', { BODY: 'a;\n{\n  b;\n}', N: 3 })).toBe('fn f() {\n    a;\n    {\n      b;\n    }\n  let x = 3u;\n}');
  });
  it('derives pipeline keys from every define, in a fixed order', () => {
    expect(shaderKey('k', { B: 1, A: true, C: 'x' })).toBe('k(A=true,B=1,C=x)');
    expect(shaderKey('k', { A: true, B: 1 })).toBe(shaderKey('k', { B: 1, A: true }));
    expect(shaderKey('k', { A: true, B: 1 })).not.toBe(shaderKey('k', { A: true, B: 2 }));
  });
  it('refuses a placeholder without a define and an unbalanced #if', () => {
    expect(() => preprocess('{{MISSING}}')).toThrow(/MISSING/);
    expect(() => preprocess('#if A\nx')).toThrow(/unterminated/);
    expect(() => preprocess('#endif')).toThrow(/without #if/);
  });
});

describe('registered kernels', () => {
  // Parsing and validation only (no pipeline): a full compile of every example would take minutes on SwiftShader.
  it.each(SHADERS.map((s) => [s.name, s] as const))('%s expands its example defines into valid WGSL', async (_, shader) => {
    const ctx = await gpu();
    const code = shader.build(shader.example);
    expect(code.replace(/\/\/.*$/gm, '')).not.toMatch(/\{\{|^\s*#(if|else|elif|endif)/m);
    const info = await gpuWait(ctx.device.createShaderModule({ code }).getCompilationInfo());
    expect(info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}: ${m.message}`)).toEqual([]);
  });
});

describe('splitRows', () => {
  it("splits Qwen2.5-0.5B's F16 embedding across 128 MiB bindings, every part within the limit", () => {
    const rows = 151936;
    const bpr = 896 * 2;
    const max = 128 * 2 ** 20;
    const parts = splitRows(rows, bpr, max);
    expect(parts.length).toBe(Math.ceil((rows * bpr) / (Math.floor(max / bpr) * bpr)));
    expect(parts[0].start).toBe(0);
    expect(parts.at(-1)!.end).toBe(rows);
    for (let i = 0; i < parts.length; i++) {
      expect(parts[i].byteLength).toBeLessThanOrEqual(max);
      if (i) expect(parts[i].start).toBe(parts[i - 1].end);
    }
  });
  it('refuses a single row larger than a binding', () => {
    expect(() => splitRows(2, 100, 99)).toThrow(/exceeds/);
  });
});

describe('GpuContext', () => {
  it('reports the adapter and the limits it asked for', async () => {
    const ctx = await gpu();
    expect(ctx.caps.adapterName.length).toBeGreaterThan(0);
    // Requested the adapter's own limits, not the 128 MiB default (SwiftShader offers 1 GiB).
    expect(ctx.device.limits.maxStorageBufferBindingSize).toBe(ctx.caps.maxStorageBufferBindingSize);
  });

  it('compiles each pipeline once', async () => {
    const ctx = await gpu();
    const [g, u, y] = [1, 2, 3].map((i) => ctx.upload(`b${i}`, new Float32Array(8).fill(i)));
    const rec = ctx.recorder();
    swigluForward(rec, y, g, u, 8);
    const before = ctx.pipelineCount;
    swigluForward(rec, y, g, u, 8);
    swigluForward(rec, y, g, u, 5);
    expect(ctx.pipelineCount).toBe(before);
    await rec.submit();
  });

  it('times a submit with timestamp queries across passes, and still runs it', async () => {
    const ctx = await gpu();
    const n = 1 << 16;
    const [g, u] = [1, 2].map((i) => ctx.upload(`t${i}`, new Float32Array(n).fill(i)));
    const y = ctx.buffer('ty', n * 4);
    ctx.poison(y);
    const rec = ctx.recorder();
    swigluForward(rec, y, g, u, n);
    rec.clear(g, 0, 16); // a clear between dispatches: two compute passes
    swigluForward(rec, y, g, u, n);
    if (!ctx.caps.timestampQuery) {
      await expect(rec.submit({ timed: true })).rejects.toThrow(/timestamp-query/);
      return;
    }
    const ns = await rec.submit({ timed: true });
    expect(ns).toBeGreaterThan(0);
    expect(ns).toBeLessThan(60e9);
    // The work itself ran: silu(1) * 2 past the cleared head of g.
    const out = await ctx.readF32(y, 8, 16);
    expect(out[7]).toBeCloseTo(2 / (1 + Math.exp(-1)), 6);
  });

  it('profiles every dispatch under its kernel name, across more than one query set, and still runs them', async () => {
    const ctx = await gpu();
    if (!ctx.caps.timestampQuery) {
      expect(() => ctx.profile()).toThrow(/timestamp-query/);
      return;
    }
    const n = 64;
    const [g, u] = [1, 2].map((i) => ctx.upload(`p${i}`, new Float32Array(n).fill(i)));
    const y = ctx.buffer('py', n * 4);
    const z = ctx.buffer('pz', n * 4);
    ctx.poison(y);
    ctx.poison(z);
    // 2,100 dispatches: 4,200 timestamps, past one query set's 4,096.
    const counts = { swiglu: 2048 + 40, geglu: 12 };
    const profiler = ctx.profile();
    try {
      const rec = ctx.recorder();
      for (let i = 0; i < counts.swiglu; i++) swigluForward(rec, y, g, u, n);
      rec.clear(g, 0, 16); // a clear among them: passes around it as well
      for (let i = 0; i < counts.geglu; i++) gegluForward(rec, z, g, u, n);
      const total = await rec.submit({ timed: true });
      const rows = profiler.entries();
      expect(rows.map((r) => [r.kernel, r.dispatches]).sort()).toEqual([['geglu_fwd', counts.geglu], ['swiglu_fwd', counts.swiglu]]);
      for (const r of rows) expect(r.ms).toBeGreaterThan(0);
      expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 9);
      // The submit's span covers its dispatches, which run one after another.
      expect(total! / 1e6).toBeGreaterThanOrEqual(0.99 * rows.reduce((s, r) => s + r.ms, 0));
      expect(profiler.table()).toMatch(new RegExp(`^total\\s+${counts.swiglu + counts.geglu}\\s`, 'm'));
    } finally {
      ctx.profiler = null;
    }
    // The work itself ran: silu(1)·2 and, past the cleared head of g, gelu(0)·2 = 0 then gelu(1)·2.
    expect((await ctx.readF32(y, 8, 16))[7]).toBeCloseTo(2 / (1 + Math.exp(-1)), 6);
    const gz = await ctx.readF32(z, 8);
    expect(gz[0]).toBe(0);
    expect(gz[7]).toBeGreaterThan(1.6);
  });

  it('waits on the GPU with a throttled setImmediate, restored afterwards, also when waits overlap', async () => {
    const before = globalThis.setImmediate;
    let inside: typeof setImmediate | null = null;
    const slow = new Promise<number>((r) => setTimeout(() => { inside = globalThis.setImmediate; r(1); }, 20));
    const [a, b] = await Promise.all([gpuWait(slow), gpuWait(Promise.resolve(2))]);
    expect([a, b]).toEqual([1, 2]);
    expect(inside).not.toBe(before);
    expect(globalThis.setImmediate).toBe(before);
    await expect(gpuWait(Promise.reject(new Error('lost')))).rejects.toThrow('lost');
    expect(globalThis.setImmediate).toBe(before);
    // Immediates scheduled during a long wait still run.
    const ran = await gpuWait(new Promise<boolean>((r) => setTimeout(() => setImmediate(() => r(true)), 5)));
    expect(ran).toBe(true);
  });

  it('turns a validation error into a GpuError naming the kernel and its shapes', async () => {
    const ctx = await gpu();
    const ok = ctx.upload('ok', new Float32Array(8));
    const rec = ctx.recorder();
    // A uniform buffer where a storage buffer belongs: createBindGroup fails validation.
    const wrong = ctx.uniformBuffer('not-storage', 32);
    swigluForward(rec, wrong, ok, ok, 8);
    const err = await rec.submit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kind).toBe('validation');
    expect((err as GpuError).kernel).toBe('swiglu_fwd');
    expect((err as GpuError).message).toMatch(/swiglu_fwd \(N=8\)/);
  });

  it('reports a WGSL compile error with the kernel name', async () => {
    const ctx = await gpu();
    await expect(ctx.pipelineChecked('broken_kernel', () => '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }')).rejects.toThrow(/broken_kernel/);
  });

  it('reports device loss instead of swallowing it', async () => {
    const ctx = await GpuContext.create();
    const lost = new Promise<DeviceLostError>((resolve) => ctx.onLost(resolve));
    ctx.device.destroy(); // not through ctx.destroy(): an unexpected loss
    const e = await lost;
    expect(e).toBeInstanceOf(DeviceLostError);
    expect(() => ctx.buffer('after', 16)).toThrow(DeviceLostError);
  });
});
