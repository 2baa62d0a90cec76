// What the ONNX exporter refuses rather than computing something else.
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/model/config.ts';
import type { TensorReader } from '../../src/model/model.ts';
import { exportOnnx } from '../../src/onnx/llama.ts';
import { exportWebModel } from '../../src/onnx/web.ts';
import { rejects } from '../io/helpers.ts';

const reader: TensorReader = { source: 'none', has: () => false, read: () => Promise.reject(new Error('not read')) };
const cfg = { architecture: 'LlamaForCausalLM', C: 8, F: 16, L: 1, H: 2, Hkv: 1, D: 4, V: 10, eps: 1e-5, ropeTheta: 1e4, ropeScaling: null, tieEmbeddings: true, qkvBias: false, maxPositions: 16, bosId: 1, eosId: 2 } as ModelConfig;

describe('ONNX export limits', () => {
  it('refuses an architecture whose layer it does not compute (Qwen3 q/k norms, Gemma 3)', async () => {
    for (const a of ['Qwen3ForCausalLM', 'Gemma3ForCausalLM']) {
      expect(await rejects(exportOnnx({ ...cfg, architecture: a } as unknown as ModelConfig, reader))).toMatch(new RegExp(`ONNX export: ${a} is not supported yet`));
    }
  });

  it('refuses a web export without tokenizer.json, saying where the tokenizer is', async () => {
    const msg = await rejects(exportWebModel({ name: 'm.gguf', cfg, configJson: {}, reader, tokenizerJson: null, tokenizerConfig: null }, null));
    expect(msg).toMatch(/m\.gguf: transformers\.js needs tokenizer\.json/);
  });
});
