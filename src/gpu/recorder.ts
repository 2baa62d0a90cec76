// Records the dispatches of one step and submits them as one command buffer.
// Binding convention for every kernel: @group(0) @binding(0) is the `params` uniform (when the kernel has one),
// bindings 1..n are the storage buffers in the order the kernel's TypeScript passes them.
// Uniform data for all dispatches is packed into one buffer at 256-byte slots and uploaded once per submit.
import type { Capabilities } from './caps.ts';
import { fromScopeError } from './errors.ts';
import type { KernelProfiler } from './profile.ts';
import { gpuWait } from './wait.ts';

/**
 * The context a Recorder records for: what submit() uses of it is declared here, and context.ts widens it to the
 * whole GpuContext (`declare module './recorder.ts'`) so kernels reach pipelines and buffers through `rec.ctx`
 * while this file imports nothing from the module that constructs it (no import cycle).
 */
export interface RecorderContext {
  readonly device: GPUDevice;
  readonly caps: Capabilities;
  readonly checkErrors: boolean;
  /** When set, every dispatch is timed on its own and summed under its kernel name (profile.ts). */
  readonly profiler: KernelProfiler | null;
  throwIfLost(): void;
  uniformBuffer(label: string, size: number): GPUBuffer;
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

export interface Dispatch {
  kernel: string;
  /** Human-readable shapes for error messages, e.g. "M=7 N=96 K=64 q4_0". */
  shapes: string;
  pipeline: GPUComputePipeline;
  params?: ArrayBuffer | ArrayBufferView;
  buffers: Binding[];
  workgroups: [number, number?, number?];
}

type Op =
  | { kind: 'dispatch'; d: Dispatch; uniformOffset: number; uniformSize: number }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number }
  | { kind: 'clear'; buf: GPUBuffer; offset: number; size: number };

const SLOT = 256;
// A query set holds at most 4096 timestamps (WebGPU's limit): 2048 profiled dispatches per set.
const QUERIES_PER_SET = 4096;

export class Recorder {
  private ops: Op[] = [];
  private uniformBytes = 0;
  dispatchCount = 0;

  constructor(readonly ctx: RecorderContext) {}

  dispatch(d: Dispatch): void {
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.ctx.caps.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new Error(`kernel ${d.kernel} (${d.shapes}): ${x}x${y}x${z} workgroups exceed the device's ${max} per dimension`);
    }
    const size = d.params ? d.params.byteLength : 0;
    const op: Op = { kind: 'dispatch', d, uniformOffset: this.uniformBytes, uniformSize: size };
    if (size) this.uniformBytes += Math.ceil(size / SLOT) * SLOT;
    this.ops.push(op);
    this.dispatchCount++;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.ops.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size });
  }

  clear(buf: GPUBuffer, offset = 0, size = buf.size - offset): void {
    this.ops.push({ kind: 'clear', buf, offset, size });
  }

  /**
   * Encodes and submits everything recorded; resolves once the GPU has finished it. With `timed` (needs the
   * timestamp-query feature) it resolves to the nanoseconds between the start of the first compute pass and the
   * end of the last, as the device's clock measured them (the bench's figure: no submit or polling overhead).
   */
  async submit(opts: { timed?: boolean } = {}): Promise<number | undefined> {
    const { ctx } = this;
    ctx.throwIfLost();
    if (opts.timed && !ctx.caps.timestampQuery) throw new Error('Recorder.submit({ timed }): the device has no timestamp-query feature');
    const device = ctx.device;
    const ops = this.ops;
    this.ops = [];
    const check = ctx.checkErrors;
    if (check) {
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
    }
    let uniforms: GPUBuffer | null = null;
    if (this.uniformBytes) {
      const host = new Uint8Array(this.uniformBytes);
      for (const op of ops) {
        if (op.kind !== 'dispatch' || !op.uniformSize) continue;
        const p = op.d.params!;
        const src = p instanceof ArrayBuffer ? new Uint8Array(p) : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
        host.set(src, op.uniformOffset);
      }
      uniforms = ctx.uniformBuffer('params', host.byteLength);
      device.queue.writeBuffer(uniforms, 0, host);
    }
    this.uniformBytes = 0;
    const enc = device.createCommandEncoder();
    const profiler = ctx.profiler;
    const prof = profiler ? profileQueries(device, ops) : null;
    // A profiled submit's span comes from its per-dispatch timestamps: no separate pair of queries.
    let timing: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;
    if (opts.timed && !prof) {
      timing = {
        set: device.createQuerySet({ type: 'timestamp', count: 2 }),
        resolve: device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
        read: device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      };
    }
    const nPasses = timing ? countPasses(ops) : 0;
    let passIndex = 0;
    const beginPass = (): GPUComputePassEncoder => {
      const i = passIndex++;
      if (!timing) return enc.beginComputePass();
      const tw: GPUComputePassTimestampWrites = { querySet: timing.set };
      if (i === 0) tw.beginningOfPassWriteIndex = 0;
      if (i === nPasses - 1) tw.endOfPassWriteIndex = 1;
      return enc.beginComputePass(i === 0 || i === nPasses - 1 ? { timestampWrites: tw } : {});
    };
    let pass: GPUComputePassEncoder | null = null;
    const dispatched: { label: string }[] = [];
    for (const op of ops) {
      if (op.kind === 'dispatch') {
        const { d } = op;
        const entries: GPUBindGroupEntry[] = [];
        if (op.uniformSize) entries.push({ binding: 0, resource: { buffer: uniforms!, offset: op.uniformOffset, size: op.uniformSize } });
        d.buffers.forEach((b, i) => {
          entries.push({ binding: i + 1, resource: 'offset' in b ? b : { buffer: b } });
        });
        const label = `${d.kernel}|${d.shapes}`;
        dispatched.push({ label });
        const group = device.createBindGroup({ label, layout: d.pipeline.getBindGroupLayout(0), entries });
        if (prof) {
          // Profiling: a pass of its own, its start and end written to the next two queries.
          const j = dispatched.length - 1;
          pass?.end();
          const querySet = prof.sets[Math.floor((2 * j) / QUERIES_PER_SET)];
          const at = (2 * j) % QUERIES_PER_SET;
          pass = enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } });
        }
        pass ??= beginPass();
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, group);
        const [x, y = 1, z = 1] = d.workgroups;
        pass.dispatchWorkgroups(x, y, z);
      } else {
        pass?.end();
        pass = null;
        if (op.kind === 'copy') enc.copyBufferToBuffer(op.src, op.srcOffset, op.dst, op.dstOffset, op.size);
        else enc.clearBuffer(op.buf, op.offset, op.size);
      }
    }
    pass?.end();
    if (timing && nPasses > 0) {
      enc.resolveQuerySet(timing.set, 0, 2, timing.resolve, 0);
      enc.copyBufferToBuffer(timing.resolve, 0, timing.read, 0, 16);
    }
    if (prof) {
      prof.sets.forEach((set, i) => enc.resolveQuerySet(set, 0, set.count, prof.resolve, i * QUERIES_PER_SET * 8));
      enc.copyBufferToBuffer(prof.resolve, 0, prof.read, 0, prof.read.size);
    }
    device.queue.submit([enc.finish()]);
    const done = device.queue.onSubmittedWorkDone();
    if (check) {
      const validation = await gpuWait(device.popErrorScope());
      const oom = await gpuWait(device.popErrorScope());
      if (validation) {
        uniforms?.destroy();
        throw fromScopeError('validation', validation, dispatched);
      }
      if (oom) {
        uniforms?.destroy();
        throw fromScopeError('out-of-memory', oom, dispatched);
      }
    }
    await gpuWait(done);
    uniforms?.destroy();
    ctx.throwIfLost();
    let profiled: number | undefined;
    if (prof) {
      await gpuWait(prof.read.mapAsync(GPUMapMode.READ));
      const t = new BigUint64Array(prof.read.getMappedRange());
      ops.filter((op) => op.kind === 'dispatch').forEach((op, j) => profiler!.add(op.d.kernel, Number(t[2 * j + 1] - t[2 * j])));
      // The whole submit, as `timed` reports it: from the first pass's start to the last one's end.
      if (t.length) profiled = Number(t[t.length - 1] - t[0]);
      prof.read.unmap();
      for (const b of [...prof.sets, prof.resolve, prof.read]) b.destroy();
    }
    if (prof) return opts.timed ? profiled : undefined;
    if (!timing) return undefined;
    let ns: number | undefined;
    if (nPasses > 0) {
      await gpuWait(timing.read.mapAsync(GPUMapMode.READ));
      const [t0, t1] = new BigUint64Array(timing.read.getMappedRange());
      ns = Number(t1 - t0);
      timing.read.unmap();
    }
    timing.set.destroy();
    timing.resolve.destroy();
    timing.read.destroy();
    return ns;
  }
}

/** Query sets for two timestamps per dispatch, and the buffers they are resolved into and read from. */
function profileQueries(device: GPUDevice, ops: Op[]): { sets: GPUQuerySet[]; resolve: GPUBuffer; read: GPUBuffer } | null {
  const n = 2 * ops.filter((op) => op.kind === 'dispatch').length;
  if (!n) return null;
  const sets: GPUQuerySet[] = [];
  for (let at = 0; at < n; at += QUERIES_PER_SET) sets.push(device.createQuerySet({ type: 'timestamp', count: Math.min(QUERIES_PER_SET, n - at) }));
  // Each set resolves at its own 4096-query offset (resolveQuerySet wants 256-byte aligned offsets: 32 KiB is).
  const bytes = (sets.length - 1) * QUERIES_PER_SET * 8 + sets[sets.length - 1].count * 8;
  return {
    sets,
    resolve: device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
    read: device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
  };
}

/** Compute passes submit() will open: one per run of dispatches between copies and clears. */
function countPasses(ops: Op[]): number {
  let n = 0;
  let open = false;
  for (const op of ops) {
    if (op.kind === 'dispatch') {
      if (!open) n++;
      open = true;
    } else open = false;
  }
  return n;
}
