// The whole model against PyTorch's float64 results on ../shared/golden once more, with every kernel making a
// real GPU's choices (kernelEnv.device = 'gpu': tiled attention, shared-memory matmul, the output head's
// vocab-split tuning, RMSNorm's workgroup-per-row layout, LoRA's 4x4 tiles). CI runs on SwiftShader, which
// otherwise only ever runs the CPU-tuned kernels; golden.test.ts covers those. Same tolerances as there.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { openSafetensors, toFloat32 } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { attentionVariant } from '../../src/kernels/attention/attention.ts';
import { cpuTuned, kernelEnv, resetKernelEnv } from '../../src/kernels/env.ts';
import { defaultForwardVariant, defaultVariant } from '../../src/kernels/matmul/matmul.ts';
import { reduceLayout } from '../../src/kernels/reduce/reduce.ts';
import { modelStepPipelines, stepPlans } from '../../src/engine/precompile.ts';
import { pipelineId } from '../../src/gpu/wgsl.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { openModel } from '../../src/model/load.ts';
import { createLora, readLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import type { Quant } from '../../src/model/projections.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { expectClose } from '../util/check.ts';
import { golden, goldenAdapter, goldenStep, GOLDEN_DIR } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';

const g = golden();
// The first case of each quantization creates that base type's GPU pipelines: ~40 s of CPU for the whole file on
// SwiftShader (measured), which on a CI machine shared with other test files can take well past the default 120 s.
const TIMEOUT_MS = 600_000;
const pairs = g.examples.map((e) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));

describe('whole model with the GPU kernel variants forced, against PyTorch float64 (shared/golden)', () => {
  let ctx: GpuContext;
  const models = new Map<Quant, BaseModel>();
  beforeAll(async () => {
    ctx = await gpu();
    kernelEnv.device = 'gpu';
    // A device with shader-f16 would round each dequantized weight to f16 (2^-11 relative), past this file's
    // float64 tolerances: f32 here, the f16 instantiation checked per kernel (tests/kernels/matmul-shared.test.ts).
    kernelEnv.matmul.f16 = false;
    // The reductions' shared-memory tree: every device whose subgroups have one size (SwiftShader's, 4) sums within
    // a subgroup by itself, which golden.test.ts runs; the tree, a GPU's fallback, is run here.
    kernelEnv.reduce.subgroups = false;
  });
  afterAll(() => {
    resetKernelEnv();
    for (const m of models.values()) releaseBaseModel(ctx, m);
  });

  it('the forced kernels are the GPU ones', () => {
    expect(cpuTuned(ctx)).toBe(false);
    expect(attentionVariant(ctx, 16)).toBe('tiled');
    expect(defaultVariant(ctx)).toBe('shared');
    expect(defaultForwardVariant(ctx, 1)).toBe('shared');
    expect(reduceLayout(ctx).subgroups).toBe(false);
  });

  for (const c of g.cases) {
    it(`${c.quant} ${c.loss}: log-probs, loss and every LoRA gradient`, async () => {
      const opened = await openModel(nodeFiles(resolve(GOLDEN_DIR, 'model')));
      if (!models.has(c.quant)) models.set(c.quant, await loadBaseModel(ctx, opened.cfg, opened.reader, c.quant));
      await opened.close();
      const ad = adapterInit(await goldenAdapter(opened.configJson));
      const lora = createLora(ctx, opened.cfg, { ...ad.config, dropout: 0 }, 0, ad.init);
      const base = models.get(c.quant)!;
      const tf = new Transformer(ctx, base, lora);
      const compiledBefore = new Set(ctx.pipelineIds);
      try {
        const res = await goldenStep(tf, pairs, c);
        expectClose(res.logps.map((l) => l.chosenSum), c.chosen_logps, 1e-4, 1e-5, 'chosen logps');
        expectClose(res.logps.map((l) => l.rejectedSum), c.rejected_logps, 1e-4, 1e-5, 'rejected logps');
        expect(Math.abs(res.loss.loss - c.loss_value)).toBeLessThan(1e-5 + 1e-5 * Math.abs(c.loss_value));
        const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(resolve(GOLDEN_DIR, c.grads))), c.grads));
        const got = await readLora(ctx, lora, 'grads');
        expect([...got.keys()].sort()).toEqual([...st.tensors.keys()].sort());
        for (const [name, info] of st.tensors) {
          const ref = toFloat32(info, await st.read(name));
          // Scale-aware tolerance, as in golden.test.ts: f32 accumulation error grows with the largest entries.
          const max = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expectClose(got.get(name)!, ref, 2e-5 * max, 1e-4, name);
        }
        // The engine's precompile plan for this step (src/engine/precompile.ts) holds every pipeline the step created.
        const plans = stepPlans(pairs, { r: lora.R, targets: lora.targets, dropout: 0 }, true);
        const planned = new Set(plans.flatMap((p) => modelStepPipelines(ctx, opened.cfg, c.quant, p)).map(pipelineId));
        const created = ctx.pipelineIds.filter((id) => !compiledBefore.has(id));
        expect(created.filter((id) => !planned.has(id))).toEqual([]);
      } finally {
        tf.release();
        releaseLora(ctx, lora);
      }
    }, TIMEOUT_MS);
  }
});
