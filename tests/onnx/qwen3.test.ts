// Qwen3 (per-head q/k RMSNorm before RoPE) in the ONNX graph, against transformers + PEFT in float64
// (shared/golden-hf/qwen3): the plain layout's completion log-probs, and the web layout (merged adapter,
// KV cache) giving the plain layout's logits at every prompt position.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPeftAdapter } from '../../src/io/peft.ts';
import { openModel } from '../../src/model/load.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { exportOnnx } from '../../src/onnx/llama.ts';
import { expectClose } from '../util/check.ts';
import { maxDiff, ortSeqLogps } from './helpers.ts';
import { nodeOrt } from './ort.ts';

const DIR = resolve(import.meta.dirname, '../../../shared/golden-hf/qwen3');

describe('ONNX export of Qwen3 vs transformers + PEFT float64', () => {
  it('plain layout log-probs match the golden ones; the cached, merged layout matches the plain logits', async () => {
    const g = JSON.parse(readFileSync(resolve(DIR, 'golden.json'), 'utf8')) as {
      examples: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
      cases: { quant: string; loss: string; chosen_logps: number[]; rejected_logps: number[] }[];
    };
    const c = g.cases.find((k) => k.quant === 'none' && k.loss === 'sigmoid')!;
    const opened = await openModel(nodeFiles(resolve(DIR, 'model')));
    const adapter = await importPeftAdapter(
      { config: readFileSync(resolve(DIR, 'adapter/adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(DIR, 'adapter/adapter_model.safetensors'))) },
      opened.configJson as never,
    );
    expect(opened.cfg.qkNorm).toBe(true);
    const pairs = g.examples.map((e) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));
    const plain = await exportOnnx(opened.cfg, opened.reader, adapter, { maxPositions: 64 });
    const ort = await ortSeqLogps(plain, pairs);
    const want = Float64Array.from([...c.chosen_logps, ...c.rejected_logps]);
    const d = maxDiff(ort, want);
    console.log(`Qwen3 ONNX vs PyTorch f64: abs ${d.abs.toExponential(2)} rel ${d.rel.toExponential(2)}`);
    expectClose(ort, want, 1e-4, 1e-5, 'ORT vs PyTorch');

    // The web layout on the first prompt, fed whole with an empty cache: logits at every position as the plain graph's.
    const rt = nodeOrt();
    const ids = g.examples[0].prompt_ids;
    const i64 = (v: number[]) => new rt.Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
    const web = await rt.InferenceSession.create(await exportOnnx(opened.cfg, opened.reader, adapter, { maxPositions: 64, kvCache: true, mergeAdapter: true }));
    const past = Object.fromEntries(web.inputNames.filter((n) => n.startsWith('past_')).map((n) => [n, new rt.Tensor('float32', new Float32Array(0), [1, opened.cfg.Hkv, 0, opened.cfg.D])]));
    const a = (await web.run({ input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)), ...past })).logits.data as Float32Array;
    const ps = await rt.InferenceSession.create(plain);
    const b = (await ps.run({ input_ids: i64(ids) })).logits.data as Float32Array;
    await Promise.all([web.release(), ps.release(), opened.close()]);
    expect(maxDiff(a, b).abs).toBeLessThan(1e-4);
  });
});
