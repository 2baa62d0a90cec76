// The whole engine against PyTorch's float64 results on ../shared/golden (as llm.c's test_gpt2 does):
// log-probs, every loss type and every LoRA gradient, for each base quantization, in the step's default layout
// (each prompt once: model/batch.ts layoutSharedPrompt); and the two layouts against each other.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { openSafetensors, toFloat32 } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { openModel } from '../../src/model/load.ts';
import { kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { createLora, readLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { expectClose } from '../util/check.ts';
import { golden, goldenAdapter, goldenStep, GOLDEN_DIR } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';

const g = golden();
const pairs = g.examples.map((e) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));

async function goldenGrads(file: string): Promise<Map<string, Float32Array>> {
  const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(resolve(GOLDEN_DIR, file))), file));
  const out = new Map<string, Float32Array>();
  for (const [name, info] of st.tensors) out.set(name, toFloat32(info, await st.read(name)));
  return out;
}

describe('whole model against PyTorch float64 (shared/golden)', () => {
  let ctx: GpuContext;
  const models = new Map<Quant, BaseModel>();
  beforeAll(async () => {
    ctx = await gpu();
  });
  afterAll(() => {
    for (const m of models.values()) releaseBaseModel(ctx, m);
  });

  async function model(quant: Quant) {
    const opened = await openModel(nodeFiles(resolve(GOLDEN_DIR, 'model')));
    if (!models.has(quant)) models.set(quant, await loadBaseModel(ctx, opened.cfg, opened.reader, quant));
    await opened.close();
    return { base: models.get(quant)!, opened };
  }

  /** Runs case c in the current layout, checks it against PyTorch, and returns its log-probs and gradients. */
  async function check(c: (typeof g.cases)[number], label: string) {
    const { base, opened } = await model(c.quant);
    const ad = adapterInit(await goldenAdapter(opened.configJson));
    const lora = createLora(ctx, opened.cfg, { ...ad.config, dropout: 0 }, 0, ad.init);
    const tf = new Transformer(ctx, base, lora);
    try {
      const res = await goldenStep(tf, pairs, c);
      const relErr = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
      const logpErr = Math.max(relErr(res.logps.map((l) => l.chosenSum), c.chosen_logps), relErr(res.logps.map((l) => l.rejectedSum), c.rejected_logps));
      expectClose(res.logps.map((l) => l.chosenSum), c.chosen_logps, 1e-4, 1e-5, 'chosen logps');
      expectClose(res.logps.map((l) => l.rejectedSum), c.rejected_logps, 1e-4, 1e-5, 'rejected logps');
      expect(Math.abs(res.loss.loss - c.loss_value)).toBeLessThan(1e-5 + 1e-5 * Math.abs(c.loss_value));
      const want = await goldenGrads(c.grads);
      const got = await readLora(ctx, lora, 'grads');
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      let gradErr = 0;
      for (const [name, ref] of want) {
        // Scale-aware tolerance: f32 accumulation error grows with the tensor's largest entries.
        let max = 0;
        for (const v of ref) max = Math.max(max, Math.abs(v));
        expectClose(got.get(name)!, ref, 2e-5 * max, 1e-4, name);
        const g = got.get(name)!;
        for (let i = 0; i < ref.length; i++) gradErr = Math.max(gradErr, Math.abs(g[i] - ref[i]) / max);
      }
      console.log(`golden ${label}: log-prob max rel err ${logpErr.toExponential(2)}, loss abs err ${Math.abs(res.loss.loss - c.loss_value).toExponential(2)}, grad max err / max|grad| ${gradErr.toExponential(2)}`);
      return { logps: res.logps, grads: got, rowTokens: res.rowTokens, tokens: res.tokens };
    } finally {
      tf.release();
      releaseLora(ctx, lora);
    }
  }

  for (const c of g.cases) {
    it(`${c.quant} ${c.loss}: log-probs, loss and every LoRA gradient`, async () => {
      await check(c, `${c.quant} ${c.loss}`);
    });
  }

  it('two sequences per pair (kernelEnv.step.sharedPrompt = false) and the shared prompt agree, both against PyTorch', async () => {
    const c = g.cases.find((x) => x.quant === 'q4_0')!;
    try {
      kernelEnv.step.sharedPrompt = false;
      const two = await check(c, `${c.quant} ${c.loss}, two sequences per pair`);
      kernelEnv.step.sharedPrompt = true;
      const shared = await check(c, `${c.quant} ${c.loss}, shared prompt`);
      expect(two.rowTokens).toBe(two.tokens);
      expect(shared.tokens).toBe(two.tokens);
      const promptTokens = pairs.reduce((a, p) => a + p.promptIds.length - 1, 0);
      expect(shared.rowTokens).toBe(two.tokens - promptTokens);
      let logpDiff = 0;
      shared.logps.forEach((l, i) => {
        logpDiff = Math.max(logpDiff, Math.abs(l.chosenSum - two.logps[i].chosenSum), Math.abs(l.rejectedSum - two.logps[i].rejectedSum));
      });
      let gradDiff = 0;
      for (const [name, a] of two.grads) {
        const b = shared.grads.get(name)!;
        let max = 0;
        for (const v of a) max = Math.max(max, Math.abs(v));
        for (let i = 0; i < a.length; i++) gradDiff = Math.max(gradDiff, Math.abs(a[i] - b[i]) / max);
        expectClose(b, a, 1e-5 * max, 1e-5, name);
      }
      expect(logpDiff).toBeLessThan(1e-4);
      console.log(`golden ${c.quant} ${c.loss}: shared prompt vs two sequences: log-prob max abs diff ${logpDiff.toExponential(2)}, grad max diff / max|grad| ${gradDiff.toExponential(2)}; ${shared.rowTokens} of ${two.tokens} tokens run`);
    } finally {
      resetKernelEnv();
    }
  });
});
