// Whole-model gradient check for every loss type: the GPU's LoRA gradients against central differences of
// the float64 CPU reference model (src/model/reference.ts), which is itself checked against PyTorch's
// float64 log-probs in shared/golden. Covers what the golden file does not: DPO, SFT, label smoothing, dropout.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { toFloat32 } from '../../src/io/safetensors.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { layoutPairs, layoutSharedPrompt } from '../../src/model/batch.ts';
import { PROJECTIONS, projectionModule, type ModelConfig } from '../../src/model/config.ts';
import { openModel } from '../../src/model/load.ts';
import { createLora, loraModules, peftName, readLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { referenceForward, type RefLora, type RefWeights } from '../../src/model/reference.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { cpoLoss, type LossConfig, type PairLogps } from '../../src/train/losses.ts';
import { runMicroBatch } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose } from '../util/check.ts';
import { golden, goldenAdapter, GOLDEN_DIR } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';

const g = golden();
// Three of the five golden pairs keep the CPU reference quick.
const pairs = g.examples.slice(0, 3).map((e) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));
const batch = layoutPairs(pairs);
const norm = { pairs: pairs.length, chosenTokens: pairs.reduce((a, p) => a + p.chosenIds.length, 0) };

describe('whole-model gradients against the float64 reference', () => {
  let ctx: GpuContext;
  let cfg: ModelConfig;
  let base: BaseModel;
  let w: RefWeights;
  let init: Map<string, Float32Array>;
  let lc: ReturnType<typeof adapterInit>['config'];

  beforeAll(async () => {
    ctx = await gpu();
    const opened = await openModel(nodeFiles(resolve(GOLDEN_DIR, 'model')));
    cfg = opened.cfg;
    base = await loadBaseModel(ctx, cfg, opened.reader, 'none');
    const f64 = async (name: string) => Float64Array.from(toFloat32({ name, file: 'model', dtype: 'F32' }, (await opened.reader.read(name)).data));
    w = { embed: await f64('model.embed_tokens.weight'), lmHead: await f64('lm_head.weight'), finalNorm: await f64('model.norm.weight'), layers: [] };
    for (let l = 0; l < cfg.L; l++) {
      const p = `model.layers.${l}`;
      const proj = {} as RefWeights['layers'][number]['proj'];
      for (const name of PROJECTIONS) proj[name] = await f64(`${p}.${projectionModule(name)}.${name}.weight`);
      w.layers.push({ attnNorm: await f64(`${p}.input_layernorm.weight`), mlpNorm: await f64(`${p}.post_attention_layernorm.weight`), proj, bias: {} });
    }
    await opened.close();
    const a = adapterInit(await goldenAdapter(opened.configJson));
    init = a.init;
    lc = a.config;
  });
  afterAll(() => releaseBaseModel(ctx, base));

  function refLora(dropout: number): RefLora {
    return {
      R: lc.r,
      scale: lc.alpha / lc.r,
      dropout,
      modules: Array.from({ length: cfg.L }, (_, l) =>
        Object.fromEntries(
          PROJECTIONS.map((p) => {
            const A = Float64Array.from(init.get(peftName(l, p, 'lora_A'))!);
            const B = Float64Array.from(init.get(peftName(l, p, 'lora_B'))!);
            return [p, { A, B, N: B.length / lc.r, K: A.length / lc.r }];
          }),
        ),
      ),
    };
  }

  function refLoss(loss: LossConfig, lora: RefLora, seed: number | null, refSums: Float64Array | null): number {
    const { seqLogp } = referenceForward(cfg, w, lora, batch, seed);
    const B = pairs.length;
    const lp: PairLogps[] = pairs.map((_, i) => ({
      chosenSum: seqLogp[i],
      rejectedSum: seqLogp[B + i],
      chosenTokens: batch.completionLengths[i],
      rejectedTokens: batch.completionLengths[B + i],
      refChosenSum: refSums?.[i],
      refRejectedSum: refSums?.[B + i],
    }));
    return cpoLoss(lp, loss, norm).loss;
  }

  it('the reference reproduces PyTorch float64 log-probs', () => {
    const { seqLogp } = referenceForward(cfg, w, refLora(0), batch);
    const none = g.cases.find((c) => c.quant === 'none')!;
    expectClose(seqLogp.slice(0, 3), none.chosen_logps.slice(0, 3), 1e-6, 1e-7, 'chosen');
    expectClose(seqLogp.slice(3, 6), none.rejected_logps.slice(0, 3), 1e-6, 1e-7, 'rejected');
  });

  it('the shared-prompt layout gives the same log-probs as two sequences per pair (float64)', () => {
    const shared = layoutSharedPrompt(pairs);
    expect(shared.M).toBeLessThan(batch.M);
    const a = referenceForward(cfg, w, refLora(0), batch);
    const b = referenceForward(cfg, w, refLora(0), shared);
    expectClose(b.seqLogp, a.seqLogp, 1e-11, 1e-12, 'sequence log-probs');
    expectClose(b.logp, a.logp, 1e-11, 1e-12, 'per-position log-probs');
  });

  const cases: [string, LossConfig, number][] = [
    ['sigmoid with label smoothing', { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0.2, simpoGamma: 0 }, 0],
    ['hinge', { loss: 'hinge', beta: 0.01, cpoAlpha: 0.5, labelSmoothing: 0, simpoGamma: 0 }, 0],
    ['ipo', { loss: 'ipo', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 }, 0],
    ['simpo', { loss: 'simpo', beta: 2, cpoAlpha: 0, labelSmoothing: 0, simpoGamma: 0.5 }, 0],
    ['dpo', { loss: 'dpo', beta: 0.1, cpoAlpha: 0, labelSmoothing: 0, simpoGamma: 0 }, 0],
    ['sft', { loss: 'sft', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 }, 0],
    ['sigmoid with LoRA dropout 0.1', { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 }, 0.1],
  ];

  for (const [name, loss, dropout] of cases) {
    it(`${name}: GPU LoRA gradients match central differences of the reference`, async () => {
      const seed = dropout > 0 ? 12345 : null;
      const lora = createLora(ctx, cfg, { ...lc, dropout }, 0, init);
      const tf = new Transformer(ctx, base, lora);
      const res = await runMicroBatch(tf, pairs, loss, norm, { backward: true, accumulate: false, dropoutSeed: seed });
      const grads = await readLora(ctx, lora, 'grads');
      tf.release();
      releaseLora(ctx, lora);

      const ref = refLora(dropout);
      const refSums = loss.loss === 'dpo' ? referenceForward(cfg, w, null, batch).seqLogp : null;
      expect(Math.abs(res.loss.loss - refLoss(loss, ref, seed, refSums))).toBeLessThan(1e-5 * Math.max(1, Math.abs(res.loss.loss)));
      const rng = new Rng(7);
      const eps = 1e-5;
      const checked: { got: number; want: number; scale: number }[] = [];
      for (const m of loraModules(lora)) {
        if (rng.next() > 0.4) continue; // a sample of the modules, two entries of A and of B each
        for (const which of ['A', 'B'] as const) {
          const t = ref.modules[m.layer][m.proj]![which];
          const got = grads.get(peftName(m.layer, m.proj, which === 'A' ? 'lora_A' : 'lora_B'))!;
          let scale = 0;
          for (const v of got) scale = Math.max(scale, Math.abs(v));
          for (let k = 0; k < 2; k++) {
            const i = rng.int(t.length);
            const keep = t[i];
            t[i] = keep + eps;
            const up = refLoss(loss, ref, seed, refSums);
            t[i] = keep - eps;
            const down = refLoss(loss, ref, seed, refSums);
            t[i] = keep;
            checked.push({ got: got[i], want: (up - down) / (2 * eps), scale });
          }
        }
      }
      expect(checked.length).toBeGreaterThan(8);
      for (const c of checked) expect(Math.abs(c.got - c.want)).toBeLessThan(2e-3 * Math.abs(c.want) + 1e-4 * c.scale + 1e-7);
    });
  }
});
