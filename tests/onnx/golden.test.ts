// onnxruntime as an independent implementation of the forward pass: the golden tiny Llama and its PEFT
// adapter exported to ONNX (src/onnx) and run by ORT's CPU kernels, against PyTorch's float64 log-probs
// (shared/golden) and against our WebGPU engine on the same inputs, for an f32 and a q8_0 base.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import type { LoraAdapter } from '../../src/io/peft.ts';
import type { OpenedModel } from '../../src/model/load.ts';
import { exportOnnx } from '../../src/onnx/llama.ts';
import { expectClose } from '../util/check.ts';
import { golden } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';
import { engineSeqLogps, goldenAdapter, goldenModel, maxDiff, ortSeqLogps } from './helpers.ts';
import { nodeOrt } from './ort.ts';

const g = golden();
const pairs = g.examples.map((e) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));
const goldenLogps = (quant: string) => {
  const c = g.cases.find((k) => k.quant === quant)!;
  return Float64Array.from([...c.chosen_logps, ...c.rejected_logps]);
};
const report: string[] = [];

describe('ONNX export run by onnxruntime-web (wasm) vs PyTorch golden and the WebGPU engine', () => {
  let ctx: GpuContext;
  let opened: OpenedModel;
  let adapter: LoraAdapter;
  beforeAll(async () => {
    ctx = await gpu();
    opened = await goldenModel();
    adapter = await goldenAdapter(opened);
  });
  afterAll(() => console.log(`ONNX checks, max differences over ${2 * pairs.length} sequence log-prob sums:\n  ${report.join('\n  ')}`));

  for (const quant of ['none', 'q8_0', 'q4_0', 'f16'] as const) {
    it(`${quant} base + adapter: ORT matches PyTorch float64 and our engine`, async () => {
      const model = await exportOnnx(opened.cfg, opened.reader, adapter, { baseQuant: quant, maxPositions: 64 });
      const ort = await ortSeqLogps(model, pairs);
      const want = goldenLogps(quant);
      const engine = await engineSeqLogps(ctx, opened, adapter, quant, pairs);
      const vsGolden = maxDiff(ort, want);
      const vsEngine = maxDiff(engine, ort);
      report.push(`${quant}: ORT vs PyTorch f64 abs ${vsGolden.abs.toExponential(2)} rel ${vsGolden.rel.toExponential(2)}; engine vs ORT abs ${vsEngine.abs.toExponential(2)} rel ${vsEngine.rel.toExponential(2)}`);
      expectClose(ort, want, 1e-4, 1e-5, 'ORT vs PyTorch');
      expectClose(engine, ort, 1e-4, 1e-5, 'engine vs ORT');
    }, 300_000); // the first (none) took 60 s alone and timed out at 120 s under load
  }

  it('the adapter is applied: without it ORT moves away from the golden log-probs', async () => {
    const model = await exportOnnx(opened.cfg, opened.reader, null, { maxPositions: 64 });
    const session = await nodeOrt().InferenceSession.create(model);
    expect([session.inputNames, session.outputNames]).toEqual([['input_ids'], ['logits', 'log_probs']]);
    await session.release();
    const d = maxDiff(await ortSeqLogps(model, pairs), goldenLogps('none'));
    expect(d.abs).toBeGreaterThan(1e-2);
  });
});
