// Shared by the ONNX tests: the golden model and adapter opened with the project's loaders, onnxruntime's
// per-sequence completion log-prob sums, and the engine's for the same pairs.
import { resolve } from 'node:path';
import type { GpuContext } from '../../src/gpu/context.ts';
import type { LoraAdapter } from '../../src/io/peft.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { layoutPairs, type PairIds } from '../../src/model/batch.ts';
import { openModel, type OpenedModel } from '../../src/model/load.ts';
import { createLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { runMicroBatch } from '../../src/train/step.ts';
import { GOLDEN_DIR, goldenAdapter as goldenAdapterFile } from '../util/golden.ts';
import { nodeOrt } from './ort.ts';

export async function goldenModel(): Promise<OpenedModel> {
  return openModel(nodeFiles(resolve(GOLDEN_DIR, 'model')));
}

export function goldenAdapter(opened: OpenedModel): Promise<LoraAdapter> {
  return goldenAdapterFile(opened.configJson);
}

/**
 * Σ log p(completion token | prefix) per sequence, chosen sequences first then rejected (the engine's order),
 * from one onnxruntime run over the right-padded batch; sums in f64 over ORT's f32 log_probs.
 */
export async function ortSeqLogps(model: Uint8Array, pairs: PairIds[]): Promise<Float64Array> {
  const ort = nodeOrt();
  const batch = layoutPairs(pairs, 0);
  const session = await ort.InferenceSession.create(model);
  try {
    const ids = new ort.Tensor('int64', BigInt64Array.from(batch.ids, (v) => BigInt(v)), [batch.nSeq, batch.T]);
    const out = await session.run({ input_ids: ids });
    const lp = out.log_probs;
    const V = lp.dims[2];
    const data = lp.data as Float32Array;
    const sums = new Float64Array(batch.nSeq);
    for (let s = 0; s < batch.nSeq; s++) {
      for (let k = batch.offsets[s]; k < batch.offsets[s + 1]; k++) sums[s] += data[batch.rows[k] * V + batch.labels[k]];
    }
    return sums;
  } finally {
    await session.release();
  }
}

/** The engine's (GPU) sums for the same pairs and order, through runMicroBatch as training computes them. */
export async function engineSeqLogps(ctx: GpuContext, opened: Pick<OpenedModel, 'cfg' | 'reader'>, adapter: LoraAdapter, quant: Quant, pairs: PairIds[]): Promise<Float64Array> {
  const base = await loadBaseModel(ctx, opened.cfg, opened.reader, quant);
  const { config, init } = adapterInit(adapter);
  const lora = createLora(ctx, opened.cfg, { ...config, dropout: 0 }, 0, init);
  const tf = new Transformer(ctx, base, lora);
  try {
    const chosenTokens = pairs.reduce((a, p) => a + p.chosenIds.length, 0);
    const res = await runMicroBatch(
      tf,
      pairs,
      { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 },
      { pairs: pairs.length, chosenTokens },
      { backward: false, accumulate: false, dropoutSeed: null },
    );
    return Float64Array.from([...res.logps.map((l) => l.chosenSum), ...res.logps.map((l) => l.rejectedSum)]);
  } finally {
    tf.release();
    releaseLora(ctx, lora);
    releaseBaseModel(ctx, base);
  }
}

/** Largest |a − b| and largest |a − b| / |b| over the elements. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.abs(b[i]));
  }
  return { abs, rel };
}
