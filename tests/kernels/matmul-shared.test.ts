import { describe } from 'vitest';
import { checkMatmul, shapes } from './matmul.case.ts';
import { eachVariant } from './op.ts';

// The workgroup-memory variant (real GPUs), forced here; kept apart from matmul.test.ts so the two files' pipeline
// compiles run in parallel.
describe('matmul shared', () => {
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    eachVariant({ shared: { matmul: { variant: 'shared' } } }, `${type} forward and backward-input match the reference`, async () => {
      for (const c of shapes[type]) await checkMatmul(type, c, true);
    });
  }
});
