// Typed GPU failures. Each names the kernel and the shapes involved so that a bug report
// says which op on which tensor, not just "validation error".

export type GpuErrorKind = 'validation' | 'out-of-memory' | 'internal' | 'device-lost' | 'no-adapter' | 'unsupported';

export class GpuError extends Error {
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
    readonly kernel?: string,
    readonly shapes?: string,
  ) {
    super(kernel ? `${kind} error in kernel ${kernel}${shapes ? ` (${shapes})` : ''}: ${message}` : `${kind}: ${message}`);
    this.name = 'GpuError';
  }
}

export class DeviceLostError extends GpuError {
  constructor(readonly reason: string, message: string) {
    super('device-lost', `GPU device lost (${reason}): ${message}`);
    this.name = 'DeviceLostError';
  }
}

/** Turns a GPUError from an error scope into a GpuError naming the dispatch its message points at. */
export function fromScopeError(kind: 'validation' | 'out-of-memory' | 'internal', err: GPUError, dispatches: { label: string }[]): GpuError {
  const msg = err.message;
  // Dawn quotes object labels in its messages; our bind-group labels are "kernel|shapes".
  const hit = dispatches.find((d) => msg.includes(d.label));
  if (hit) {
    const [kernel, shapes] = hit.label.split('|');
    return new GpuError(kind, msg, kernel, shapes);
  }
  // "[ComputePipeline "name#entry"]" or "[Invalid ComputePipeline "name#entry"]": the pipeline is the kernel.
  const pipe = /ComputePipeline "([^"|#]+)/.exec(msg);
  return new GpuError(kind, msg, pipe?.[1] ?? dispatches.at(-1)?.label.split('|')[0]);
}
