import { describe, it } from 'vitest';
import { embeddingForward } from '../../src/kernels/embedding/embedding.ts';
import { embeddingForwardRef } from '../../src/kernels/embedding/embedding.ref.ts';
import { bytesPerRow, decodeWeight, encodeWeight } from '../../src/kernels/quant/formats.ts';
import { releaseWeight, uploadWeight } from '../../src/kernels/quant/tensor.ts';
import { Rng } from '../../src/util/rng.ts';
import { gpu } from '../util/gpu.ts';
import { checkOp } from './op.ts';

describe('embedding', () => {
  const cases = [
    { type: 'f32', V: 37, C: 13 },
    { type: 'f32', V: 50, C: 64, parts: 3 },
    { type: 'f16', V: 41, C: 34, parts: 2 },
    { type: 'q8_0', V: 45, C: 96, parts: 4 },
    { type: 'q4_0', V: 45, C: 64, parts: 3 },
  ] as const;
  for (const c of cases) {
    it(`${c.type} V=${c.V} C=${c.C} parts=${'parts' in c ? c.parts : 1} gathers the reference rows, zeros for ids >= V`, async () => {
      const ctx = await gpu();
      const { type, V, C } = c;
      const parts = 'parts' in c ? c.parts : 1;
      const rng = new Rng(V * C);
      const bytes = encodeWeight(type, rng.randn(V * C), V, C);
      const table = uploadWeight(ctx, 'table', type, bytes, V, C, Math.ceil(V / parts) * bytesPerRow(type, C));
      if (table.parts.length !== parts) throw new Error(`expected ${parts} parts, got ${table.parts.length}`);
      // Ids in every part, the very last row (in the last part), repeats, and out-of-range ids.
      const ids = Uint32Array.from([V - 1, 0, 1, V - 1, V, V + 1000, 0xffffffff, ...Array.from({ length: 20 }, () => rng.int(V))]);
      const n = ids.length;
      await checkOp({
        inputs: { ids },
        outputs: { x: n * C },
        run: (rec, b) => embeddingForward(rec, b.x, b.ids, table, n),
        want: { x: { ref: embeddingForwardRef(decodeWeight(type, bytes, V, C), ids, V, C), atol: 0, rtol: 0 } },
      });
      releaseWeight(ctx, table);
    });
  }
});
