import { describe, expect, it } from 'vitest';
import { ropeBackward, ropeForward, ropeInvFreq, type RopeScaling } from '../../src/kernels/rope/rope.ts';
import { ropeRef } from '../../src/kernels/rope/rope.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { checkOp, checkRefGrad, type Want } from './op.ts';

const LLAMA31: RopeScaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };

/** Rotates x in place (forward, or its transpose) and compares it with `want`. */
async function run(x: Float32Array, inv: Float32Array, nTok: number, T: number, H: number, D: number, pos0: number, inverse: boolean, want: Want) {
  await checkOp({
    inputs: { inv },
    outputs: { x }, // in place: x starts as the input
    run: (rec, b) => (inverse ? ropeBackward : ropeForward)(rec, b.x, b.inv, nTok, T, H, D, pos0),
    want: { x: want },
  });
}

describe('rope', () => {
  it('backward is the transpose of forward (finite differences of the reference)', () => {
    const [nTok, T, H, D] = [3, 2, 2, 6];
    const rng = new Rng(4);
    const inv = ropeInvFreq(D, 10000);
    const x = toF64(rng.randn(nTok * H * D));
    const w = toF64(rng.randn(nTok * H * D));
    const g = ropeRef(w, inv, nTok, T, H, D, 5, true);
    checkRefGrad('dx', (v) => dot(w, ropeRef(v, inv, nTok, T, H, D, 5)), x, g);
  });

  it('inv_freq follows HF: θ^(−2i/D) and llama3 scaling by band', () => {
    const D = 128;
    const base = ropeInvFreq(D, 500000);
    for (let i = 0; i < D / 2; i++) expect(Math.abs(base[i] / 500000 ** (-(2 * i) / D) - 1)).toBeLessThan(2e-7);
    const s = ropeInvFreq(D, 500000, LLAMA31);
    let high = 0, low = 0, mid = 0;
    for (let i = 0; i < D / 2; i++) {
      const wl = (2 * Math.PI) / base[i];
      if (wl < 8192 / 4) { expect(s[i]).toBe(base[i]); high++; }
      else if (wl > 8192) { expect(s[i]).toBe(Math.fround(base[i] / 8)); low++; }
      else {
        const k = (8192 / wl - 1) / 3;
        expect(Math.abs(s[i] / (((1 - k) * base[i]) / 8 + k * base[i]) - 1)).toBeLessThan(1e-6);
        mid++;
      }
    }
    expect(high && low && mid).toBeGreaterThan(0);
  });

  const shapes: [number, number, number, number, number, number][] = [
    // nTok, T, heads, D, pos0, theta
    [1, 1, 1, 2, 0, 10000],
    [7, 3, 3, 10, 0, 10000],
    [13, 13, 2, 64, 2, 1e6],
    [5, 2, 14, 64, 0, 1e6],
    [9, 5, 1, 128, 17, 500000],
  ];
  for (const [nTok, T, H, D, pos0, theta] of shapes)
    for (const inverse of [false, true])
      it(`${inverse ? 'backward' : 'forward'} matches the reference, nTok=${nTok} T=${T} H=${H} D=${D} pos0=${pos0}`, async () => {
        const rng = new Rng(nTok * 7 + D);
        const x = rng.randn(nTok * H * D);
        const inv = ropeInvFreq(D, theta, theta === 500000 ? LLAMA31 : null);
        await run(x, inv, nTok, T, H, D, pos0, inverse, { ref: ropeRef(x, inv, nTok, T, H, D, pos0, inverse), atol: 1e-6, rtol: 1e-5 });
      });

  // Per-row positions (the shared-prompt layout: a second branch restarts after the prompt): poisoned positions
  // buffer entries past nTok are never read; pos0 and T are ignored.
  for (const [nTok, H, D] of [[11, 3, 10], [37, 2, 64]] as const)
    for (const inverse of [false, true])
      it(`${inverse ? 'backward' : 'forward'} with a positions buffer matches the reference, nTok=${nTok} H=${H} D=${D}`, async () => {
        const rng = new Rng(nTok + D);
        const x = rng.randn(nTok * H * D);
        const inv = ropeInvFreq(D, 1e4);
        const positions = Uint32Array.from({ length: nTok }, (_, i) => (i < 5 ? i : i - 3) + (i % 4 === 3 ? 1000 : 0));
        await checkOp({
          inputs: { inv, positions },
          outputs: { x },
          run: (rec, b) => (inverse ? ropeBackward : ropeForward)(rec, b.x, b.inv, nTok, 7, H, D, 3, b.positions),
          want: { x: { ref: ropeRef(x, inv, nTok, 7, H, D, 3, inverse, positions), atol: 1e-6, rtol: 1e-5 } },
        });
      });

  // HF's own angle is an f32 product, off the true pos·θ^(−2i/D) by up to half an ulp (2.4e-4 rad at 4096):
  // the kernel reproduces that f32 angle exactly, and then needs cos/sin of it to near f32 accuracy.
  for (const [T, pos0] of [[4096, 0], [64, 100000 - 64]])
    it(`cos/sin of the f32 angle to ~1 ulp, positions ${pos0}..${pos0 + T - 1}`, async () => {
      const D = 64;
      const inv = ropeInvFreq(D, 1e6);
      // One head, one row per position; x = (1, 0) pairs read out cos and sin directly.
      const x = new Float32Array(T * D);
      for (let t = 0; t < T; t++) for (let i = 0; i < D / 2; i++) x[t * D + i] = 1;
      await run(x, inv, T, T, 1, D, pos0, false, { ref: ropeRef(x, inv, T, T, 1, D, pos0, false), atol: 2.5e-7, rtol: 0 });
    });
});
