// What the ONNX exporter refuses rather than computing something else, and the config features it honours
// beyond the golden tests' (linear RoPE scaling).
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/model/config.ts';
import { openModel } from '../../src/model/load.ts';
import type { TensorReader } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { exportOnnx } from '../../src/onnx/llama.ts';
import { exportWebModel } from '../../src/onnx/web.ts';
import { rejects } from '../io/helpers.ts';
import { maxDiff } from './helpers.ts';
import { nodeOrt } from './ort.ts';

const reader: TensorReader = { source: 'none', has: () => false, dtype: () => null, read: () => Promise.reject(new Error('not read')) };
const cfg = { architecture: 'LlamaForCausalLM', C: 8, F: 16, L: 1, H: 2, Hkv: 1, D: 4, V: 10, eps: 1e-5, ropeTheta: 1e4, ropeScaling: null, tieEmbeddings: true, qkvBias: false, maxPositions: 16, bosId: 1, eosId: 2 } as ModelConfig;

describe('ONNX export limits', () => {
  it('refuses an architecture whose layer it does not compute (Gemma 3)', async () => {
    for (const a of ['Gemma3ForCausalLM']) {
      expect(await rejects(exportOnnx({ ...cfg, architecture: a } as unknown as ModelConfig, reader))).toMatch(new RegExp(`ONNX export: ${a} is not supported yet`));
    }
  });

  it('refuses a Llama-architecture config carrying a layer feature the graph does not build', async () => {
    expect(await rejects(exportOnnx({ ...cfg, normPlusOne: true, act: 'gelu_tanh' }, reader))).toMatch(/LlamaForCausalLM with normPlusOne, act gelu_tanh is not supported yet/);
  });

  it("linear RoPE scaling: factor 2 at positions 0,2,4,6 computes what no scaling does at 0,1,2,3", async () => {
    const tiny = await openModel(nodeFiles(resolve(import.meta.dirname, '../../public/models/tiny')));
    const ort = nodeOrt();
    const run = async (c: ModelConfig, positions: number[]) => {
      const s = await ort.InferenceSession.create(await exportOnnx(c, tiny.reader, null, { kvCache: true, maxPositions: 16 }));
      const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
      const past = Object.fromEntries(s.inputNames.filter((n) => n.startsWith('past_')).map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, c.Hkv, 0, c.D])]));
      const out = await s.run({ input_ids: i64([1, 450, 4996, 17354]), attention_mask: i64([1, 1, 1, 1]), position_ids: i64(positions), ...past });
      await s.release();
      return out.logits.data as Float32Array;
    };
    const scaled = await run({ ...tiny.cfg, ropeLinearFactor: 2 }, [0, 2, 4, 6]);
    expect(maxDiff(scaled, await run(tiny.cfg, [0, 1, 2, 3])).abs).toBeLessThan(1e-7); // the same angles: 2p·(inv/2) = p·inv exactly
    expect(maxDiff(scaled, await run(tiny.cfg, [0, 2, 4, 6])).abs).toBeGreaterThan(1e-4); // 9e-4 measured (max |logit| ~0.5)
    await tiny.close();
  });

  it('refuses a web export without tokenizer.json, saying where the tokenizer is', async () => {
    const msg = await rejects(exportWebModel({ name: 'm.gguf', cfg, configJson: {}, reader, tokenizerJson: null, tokenizerConfig: null }, null));
    expect(msg).toMatch(/m\.gguf: transformers\.js needs tokenizer\.json/);
  });
});
