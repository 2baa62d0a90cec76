// Embedding lookup from a base-weight table (any WeightType, possibly split into row parts).
import type { Recorder } from '../../gpu/recorder.ts';
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import type { WeightTensor } from '../quant/tensor.ts';
import { weightDefines, weightLoaderSource } from '../quant/weights.ts';
import type { WeightType } from '../quant/formats.ts';
import src from './embedding.wgsl?raw';

export const embeddingShader = defineShader('embedding', 'embedding.wgsl: TYPE f32|f16|q8_0|q4_0', { TYPE: 'q8_0' as WeightType }, (d) =>
  preprocess(`${weightLoaderSource}\n${src}`, weightDefines(d.TYPE)),
);

/** x (n, C) f32 = table (V, C) rows at ids (n) u32; rows of ids >= V are zeros. */
export function embeddingForward(rec: Recorder, x: GPUBuffer, ids: GPUBuffer, table: WeightTensor, n: number): void {
  const ctx = rec.ctx;
  const C = table.K;
  const quads = Math.ceil(C / 4);
  const pipeline = ctx.compile(embeddingShader, { TYPE: table.type });
  // Every part scans all ids and writes the rows that fall in it: parts are few (the table split only when it
  // exceeds a binding), ids are many, and this needs no id sort.
  table.parts.forEach((part, i) => {
    rec.dispatch({
      kernel: 'embedding', shapes: `n=${n} V=${table.rows} C=${C} ${table.type} part=${part.start}:${part.end}`, pipeline,
      params: params([n, C, part.start, part.end, table.rows, i === 0 ? 1 : 0, quads]),
      buffers: [x, ids, part.buffer], workgroups: grid1d(ctx, n * quads, 64),
    });
  });
}
