// Rotary position embedding (HF Llama/Qwen2 "rotate_half"), applied in place to q or k rows, and its transpose.
// D head dim; nTok rows of nHeads*D; row i is at position pos0 + (i mod T), or positions[i] when given.
import type { GpuContext } from '../../gpu/context.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import src from './rope.wgsl?raw';

export { ropeInvFreq, type RopeScaling } from '../../util/rope-freqs.ts';

export const ropeShader = defineShader('rope', 'rope.wgsl: FORWARD (else backward)', { FORWARD: true }, (d) => preprocess(src, d));

function pipe(ctx: GpuContext, FORWARD: boolean) {
  return ctx.compile(ropeShader, { FORWARD });
}

function rope(rec: Recorder, forward: boolean, x: GPUBuffer, invFreq: GPUBuffer, nTok: number, T: number, nHeads: number, D: number, pos0: number, positions: GPUBuffer | null) {
  if (D % 2 !== 0) throw new Error(`rope: head dim ${D} must be even`);
  const ctx = rec.ctx;
  const n = nTok * nHeads * (D / 2);
  // Without positions the shader never reads that binding, but WebGPU wants one: invFreq stands in.
  rec.dispatch({
    kernel: forward ? 'rope_fwd' : 'rope_bwd', shapes: `nTok=${nTok} T=${T} H=${nHeads} D=${D} ${positions ? 'positions' : `pos0=${pos0}`}`, pipeline: pipe(ctx, forward),
    params: params([n, T, nHeads, D / 2, pos0, positions ? 1 : 0]), buffers: [x, invFreq, positions ?? invFreq], workgroups: grid1d(ctx, n, 256),
  });
}

/**
 * x (nTok, nHeads*D) f32 rotated in place; invFreq (D/2) f32 from ropeInvFreq. Row i is at position pos0 + (i mod T),
 * or positions[i] when that (nTok) u32 buffer is given.
 */
export function ropeForward(rec: Recorder, x: GPUBuffer, invFreq: GPUBuffer, nTok: number, T: number, nHeads: number, D: number, pos0 = 0, positions: GPUBuffer | null = null): void {
  rope(rec, true, x, invFreq, nTok, T, nHeads, D, pos0, positions);
}

/** The transpose of ropeForward (rotation by −angle), in place on dx (nTok, nHeads*D) f32. */
export function ropeBackward(rec: Recorder, dx: GPUBuffer, invFreq: GPUBuffer, nTok: number, T: number, nHeads: number, D: number, pos0 = 0, positions: GPUBuffer | null = null): void {
  rope(rec, false, dx, invFreq, nTok, T, nHeads, D, pos0, positions);
}
