// The engine's handle on one GPU device: buffers, the pipeline cache, readback, device loss.
// Kernels never call device.* directly for dispatch; they go through a Recorder (recorder.ts).
import { settings } from '../settings.ts';
import { gpuWait } from './wait.ts';
import type { Capabilities } from './caps.ts';
import { openDevice, type DeviceHandle } from './device.ts';
import { DeviceLostError, GpuError } from './errors.ts';
import { KernelProfiler } from './profile.ts';
import { Recorder } from './recorder.ts';
import { keyedPipelineId, shaderKey, type Defines, type Shader } from './wgsl.ts';

// GPUBufferUsage is a global only once the Node bindings are installed; the flag values are fixed by the spec.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE_USAGE = 0x0080;
export const STORAGE = STORAGE_USAGE | COPY_DST | COPY_SRC;

// A Recorder's `ctx` is the whole GpuContext (recorder.ts declares only the part it uses, to import nothing from here).
declare module './recorder.ts' {
  interface RecorderContext extends GpuContext {}
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly caps: Capabilities;
  /** Set once the device is lost; every later submit throws it. */
  lost: DeviceLostError | null = null;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Pipelines precompile() is still creating, by `key#entryPoint`; compiled() waits for them. */
  private readonly pending = new Map<string, Promise<unknown>>();
  /** Milliseconds this thread spent creating pipelines, plus the wall time of precompile() batches (overlapping batches counted once). */
  compileMs = 0;
  /** The end of the last precompile() batch counted into compileMs (a later batch that overlapped it adds only the rest). */
  private compiledUntil = 0;
  /** Per-kernel GPU time of every submit while set (profile()); null: submits run unprofiled. */
  profiler: KernelProfiler | null = null;
  private readonly lostListeners = new Set<(e: DeviceLostError) => void>();
  /** Bytes currently allocated through this context, and the high-water mark. */
  liveBytes = 0;
  peakBytes = 0;
  private readonly sizes = new WeakMap<GPUBuffer, number>();

  constructor(handle: DeviceHandle) {
    this.device = handle.device;
    this.caps = handle.caps;
    this.device.lost.then((info) => {
      if (info.reason === 'destroyed' && this.closing) return;
      this.lost = new DeviceLostError(info.reason ?? 'unknown', info.message);
      for (const fn of this.lostListeners) fn(this.lost);
    });
  }

  private closing = false;

  static async create(): Promise<GpuContext> {
    return new GpuContext(await openDevice());
  }

  onLost(fn: (e: DeviceLostError) => void): () => void {
    this.lostListeners.add(fn);
    return () => this.lostListeners.delete(fn);
  }

  /**
   * Times every later dispatch on its own, summed per kernel name, into the profiler returned (also ctx.profiler);
   * `ctx.profiler = null` stops. Needs the timestamp-query feature.
   */
  profile(): KernelProfiler {
    if (!this.caps.timestampQuery) throw new GpuError('unsupported', 'a kernel profile needs the timestamp-query feature, which this adapter does not offer');
    return (this.profiler = new KernelProfiler());
  }

  destroy(): void {
    this.closing = true;
    this.device.destroy();
  }

  /** A storage buffer (also copy source and destination). Sizes are rounded up to 4 bytes. */
  buffer(label: string, byteLength: number, usage = STORAGE): GPUBuffer {
    this.throwIfLost();
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    if (size > this.caps.maxBufferSize) {
      throw new GpuError('out-of-memory', `buffer ${label} needs ${size} bytes, the device allows ${this.caps.maxBufferSize} per buffer`);
    }
    const buf = this.device.createBuffer({ label, size, usage });
    this.track(buf, size);
    return buf;
  }

  /** A storage buffer holding a copy of `data`. */
  upload(label: string, data: ArrayBufferView): GPUBuffer {
    const buf = this.buffer(label, data.byteLength);
    this.write(buf, data);
    return buf;
  }

  write(buf: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 === 0) {
      this.device.queue.writeBuffer(buf, byteOffset, bytes);
    } else {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.device.queue.writeBuffer(buf, byteOffset, padded);
    }
  }

  /** Fills a buffer with NaN bit patterns, so a kernel that forgets an element is caught by any comparison. */
  poison(buf: GPUBuffer): void {
    const words = new Uint32Array(buf.size / 4).fill(0x7fc00000 | 0xdead);
    this.device.queue.writeBuffer(buf, 0, words);
  }

  release(buf: GPUBuffer | undefined | null): void {
    if (!buf) return;
    const size = this.sizes.get(buf);
    if (size !== undefined) {
      this.liveBytes -= size;
      this.sizes.delete(buf);
    }
    buf.destroy();
  }

  private track(buf: GPUBuffer, size: number): void {
    this.sizes.set(buf, size);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  /** Copies `byteLength` bytes from `buf` back to the host. */
  async read(buf: GPUBuffer, byteLength = buf.size, byteOffset = 0): Promise<ArrayBuffer> {
    this.throwIfLost();
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.device.createBuffer({ label: `readback(${buf.label})`, size, usage: MAP_READ | COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, byteOffset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    try {
      await gpuWait(staging.mapAsync(MAP_READ));
    } catch (e) {
      this.throwIfLost();
      throw new GpuError('internal', `readback of ${buf.label} failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange().slice(0, byteLength);
    staging.unmap();
    staging.destroy();
    return out;
  }

  async readF32(buf: GPUBuffer, count = buf.size / 4, offset = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buf, count * 4, offset * 4));
  }

  async readU32(buf: GPUBuffer, count = buf.size / 4, offset = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buf, count * 4, offset * 4));
  }

  /** Compiles a pipeline once per (key); `code` is only evaluated on a cache miss. */
  pipeline(key: string, code: () => string, entryPoint = 'main'): GPUComputePipeline {
    const id = keyedPipelineId(key, entryPoint);
    let p = this.pipelines.get(id);
    if (!p) {
      const t0 = performance.now();
      const module = this.device.createShaderModule({ label: key, code: code() });
      p = this.device.createComputePipeline({ label: id, layout: 'auto', compute: { module, entryPoint } });
      this.pipelines.set(id, p);
      this.compileMs += performance.now() - t0;
    }
    return p;
  }

  /** A kernel's pipeline for these defines, cached under a key derived from them (shaderKey). */
  compile<D extends Defines>(shader: Shader<D>, defines: D, entryPoint = 'main'): GPUComputePipeline {
    return this.pipeline(shaderKey(shader.name, defines), () => shader.build(defines), entryPoint);
  }

  /**
   * Creates these pipelines ahead through createComputePipelineAsync, in list order: Dawn creates them one at a
   * time on a thread of its own (measured: three batched took as long as one after another), so the caller loads
   * weights, or runs a step's forward on the pipelines of an earlier batch, meanwhile. A later compile() with the
   * same defines finds them cached; compiled() waits for those still pending. Resolves when all are ready; the
   * batch's wall time, less any part an earlier batch's already counted, is added to compileMs. `onDone(done,
   * total)` is called as each one is ready (a cached one counts at once; a failed one counts too, as it is no
   * longer pending).
   */
  async precompile(list: readonly { shader: Shader<any>; defines: Defines; entryPoint?: string }[], onDone?: (done: number, total: number) => void): Promise<void> {
    const t0 = performance.now();
    let done = 0;
    const jobs = list.map(async ({ shader, defines, entryPoint = 'main' }) => {
      const key = shaderKey(shader.name, defines);
      const id = keyedPipelineId(key, entryPoint);
      try {
        if (this.pipelines.has(id)) return;
        const pending = this.pending.get(id);
        if (pending) return void (await pending.catch(() => undefined));
        const module = this.device.createShaderModule({ label: key, code: shader.build(defines) });
        const job = gpuWait(this.device.createComputePipelineAsync({ label: id, layout: 'auto', compute: { module, entryPoint } }));
        this.pending.set(id, job);
        try {
          const p = await job;
          if (!this.pipelines.has(id)) this.pipelines.set(id, p);
        } finally {
          this.pending.delete(id);
        }
      } finally {
        onDone?.(++done, list.length);
      }
    });
    try {
      await Promise.all(jobs);
    } finally {
      const t1 = performance.now();
      this.compileMs += Math.max(0, t1 - Math.max(t0, this.compiledUntil));
      this.compiledUntil = Math.max(this.compiledUntil, t1);
    }
  }

  /**
   * Resolves once no precompile() batch is still creating a pipeline (failed ones included: their first compile()
   * reports the error where it belongs). A step records its backward after this, so a pipeline still being
   * created ahead is not created a second time on this thread.
   */
  async compiled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending.values()].map((p) => p.catch(() => undefined)));
  }

  /** Compiles and checks a pipeline now, turning WGSL errors into a typed error naming the kernel. */
  async pipelineChecked(key: string, code: () => string, entryPoint = 'main'): Promise<GPUComputePipeline> {
    this.device.pushErrorScope('validation');
    const p = this.pipeline(key, code, entryPoint);
    const err = await gpuWait(this.device.popErrorScope());
    if (err) {
      this.pipelines.delete(keyedPipelineId(key, entryPoint));
      throw new GpuError('validation', err.message, key);
    }
    return p;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** The cached pipelines, as `key#entryPoint` (what precompile plans are checked against). */
  get pipelineIds(): string[] {
    return [...this.pipelines.keys()];
  }

  recorder(): Recorder {
    return new Recorder(this);
  }

  uniformBuffer(label: string, size: number): GPUBuffer {
    return this.device.createBuffer({ label, size, usage: UNIFORM | COPY_DST });
  }

  throwIfLost(): void {
    if (this.lost) throw this.lost;
  }

  get checkErrors(): boolean {
    return settings.checkErrors;
  }
}
