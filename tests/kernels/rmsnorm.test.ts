import { describe, it } from 'vitest';
import { rmsnormBackward, rmsnormForward } from '../../src/kernels/rmsnorm/rmsnorm.ts';
import { rmsnormBackwardRef, rmsnormForwardRef } from '../../src/kernels/rmsnorm/rmsnorm.ref.ts';
import { Rng } from '../../src/util/rng.ts';
import { dot, toF64 } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp, checkRefGrad, eachVariant, type EnvPatch } from './op.ts';

describe('rmsnorm', async () => {
  it('reference backward matches finite differences', () => {
    const [M, C, eps] = [3, 7, 1e-6];
    const rng = new Rng(2);
    const x = toF64(rng.randn(M * C));
    const w = toF64(rng.randn(C));
    const dy = toF64(rng.randn(M * C));
    checkRefGrad('dx', (v) => dot(dy, rmsnormForwardRef(v, w, M, C, eps).y), x, rmsnormBackwardRef(dy, x, w, M, C, eps));
  });

  const shapes: [number, number][] = [[1, 1], [3, 63], [7, 65], [5, 896], [2, 4867]];
  // The workgroup layout reduces by a shared-memory tree, or, where the device's subgroups all have one size (on
  // SwiftShader: 4), as one subgroup per row; each forced.
  const caps = (await gpu()).caps;
  const oneSize = caps.subgroups && caps.subgroupMinSize === caps.subgroupMaxSize;
  const layouts: Record<string, EnvPatch> = {
    serial: { rmsnorm: { layout: 'serial' } },
    workgroup: { rmsnorm: { layout: 'workgroup', subgroups: false } },
    ...(oneSize ? { subgroups: { rmsnorm: { layout: 'workgroup', subgroups: true } } } : {}),
  };
  for (const [M, C] of shapes)
    for (const accumulate of [false, true]) {
      eachVariant(layouts, `forward and backward match the reference, M=${M} C=${C} accumulate=${accumulate}`, async () => {
        const rng = new Rng(M * 131 + C);
        const eps = 1e-6;
        // An offset mean and a spread of row scales: rstd varies by 100x between rows.
        const x = rng.randn(M * C).map((v, i) => (v + 0.5) * 10 ** ((Math.floor(i / C) % 3) - 1));
        const w = rng.randn(C).map((v) => 1 + 0.3 * v);
        const dy = rng.randn(M * C);
        const dx0 = rng.randn(M * C);
        const ref = rmsnormForwardRef(x, w, M, C, eps);
        const dref = rmsnormBackwardRef(dy, x, w, M, C, eps);
        await checkOp({
          inputs: { x, w, dy },
          // Accumulating into dx: it starts as dx0, so it is not poisoned.
          outputs: { y: M * C, rstd: M, dx: accumulate ? dx0 : M * C },
          run: (rec, b) => {
            rmsnormForward(rec, b.y, b.rstd, b.x, b.w, M, C, eps);
            rmsnormBackward(rec, b.dx, b.dy, b.x, b.w, b.rstd, M, C, accumulate);
          },
          want: {
            rstd: { ref: ref.rstd, atol: 0, rtol: 1e-5 },
            y: { ref: ref.y, atol: 1e-6, rtol: 1e-5 },
            // dx's two terms cancel; scale atol by the row's rstd·|w|·|dy| magnitude.
            dx: { ref: accumulate ? dref.map((v, i) => v + dx0[i]) : dref, atol: 1e-5 * Math.max(...ref.rstd), rtol: 1e-4 },
          },
        });
      });
    }
});
