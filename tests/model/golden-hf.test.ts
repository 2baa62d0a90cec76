// The whole engine against what transformers' own Qwen3 and Gemma 3 classes, PEFT and TRL's CPOTrainer compute in
// float64 (../shared/golden-hf, see its README): log-probs, loss, TRL's metrics and every LoRA gradient, for
// none / q8_0 / q4_0 bases and the sigmoid and simpo losses. Both config formats are checked in config.test.ts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { tokenLogp } from '../../src/generate/sampling.ts';
import { importPeftAdapter } from '../../src/io/peft.ts';
import { openSafetensors, toFloat32 } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { openModel, type OpenedModel } from '../../src/model/load.ts';
import { createLora, readLora, releaseLora } from '../../src/model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel, type Quant } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { runMicroBatch } from '../../src/train/step.ts';
import type { GoldenCase } from '../util/golden.ts';
import { gpu } from '../util/gpu.ts';

const HF = resolve(import.meta.dirname, '../../../shared/golden-hf');

interface HfCase extends GoldenCase {
  metrics: Record<string, number>;
}
interface HfGolden {
  examples: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
  cases: HfCase[];
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return e;
};

for (const arch of ['qwen3', 'gemma3']) {
  describe(`${arch} against transformers + PEFT + TRL in float64 (shared/golden-hf)`, () => {
    const dir = resolve(HF, arch);
    const g = JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8')) as HfGolden;
    const pairs = g.examples.map((e) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));
    let ctx: GpuContext;
    let opened: OpenedModel;
    const models = new Map<Quant, BaseModel>();
    beforeAll(async () => {
      ctx = await gpu();
      opened = await openModel(nodeFiles(resolve(dir, 'model')));
    });
    afterAll(async () => {
      for (const m of models.values()) releaseBaseModel(ctx, m);
      await opened.close();
    });

    it('decoding with the KV cache scores the chosen answers as transformers does (ragged prompts, windows crossed)', async () => {
      const c = g.cases.find((x) => x.quant === 'none')!;
      if (!models.has('none')) models.set('none', await loadBaseModel(ctx, opened.cfg, opened.reader, 'none'));
      const adir = resolve(dir, 'adapter');
      const adapter = await importPeftAdapter(
        { config: readFileSync(resolve(adir, 'adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(adir, 'adapter_model.safetensors'))) },
        opened.configJson as never,
      );
      const ad = adapterInit(adapter);
      const lora = createLora(ctx, opened.cfg, { ...ad.config, dropout: 0 }, 0, ad.init);
      const dec = new Decoder(ctx, models.get('none')!, lora);
      try {
        const V = opened.cfg.V;
        const n = pairs.length;
        const P = Math.max(...pairs.map((p) => p.promptIds.length));
        const steps = Math.max(...pairs.map((p) => p.chosenIds.length));
        dec.reserve({ slots: n, maxLen: P + steps, prefillRows: n * P });
        let logits = await dec.prefill(pairs.map((p) => p.promptIds));
        const sums = new Float64Array(n);
        for (let s = 0; s < steps; s++) {
          for (let i = 0; i < n; i++) if (s < pairs[i].chosenIds.length) sums[i] += tokenLogp(logits, pairs[i].chosenIds[s], i * V, V);
          if (s + 1 < steps) logits = await dec.step(pairs.map((p) => p.chosenIds[Math.min(s, p.chosenIds.length - 1)]));
        }
        expect(relErr(sums, c.chosen_logps)).toBeLessThan(1e-4);
      } finally {
        dec.release();
        releaseLora(ctx, lora);
      }
    });

    for (const c of g.cases) {
      it(`${c.quant} ${c.loss}: log-probs, loss, TRL metrics and every LoRA gradient`, async () => {
        if (!models.has(c.quant)) models.set(c.quant, await loadBaseModel(ctx, opened.cfg, opened.reader, c.quant));
        const adir = resolve(dir, 'adapter');
        const adapter = await importPeftAdapter(
          { config: readFileSync(resolve(adir, 'adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(adir, 'adapter_model.safetensors'))) },
          opened.configJson as never,
        );
        const ad = adapterInit(adapter);
        const lora = createLora(ctx, opened.cfg, { ...ad.config, dropout: 0 }, 0, ad.init);
        const tf = new Transformer(ctx, models.get(c.quant)!, lora);
        try {
          const chosenTokens = pairs.reduce((a, p) => a + p.chosenIds.length, 0);
          const loss = { loss: c.loss, beta: c.beta, cpoAlpha: c.cpo_alpha, labelSmoothing: c.label_smoothing, simpoGamma: c.simpo_gamma ?? 0 };
          const res = await runMicroBatch(tf, pairs, loss, { pairs: pairs.length, chosenTokens }, { backward: true, accumulate: false, dropoutSeed: null });
          const logpErr = Math.max(relErr(res.logps.map((l) => l.chosenSum), c.chosen_logps), relErr(res.logps.map((l) => l.rejectedSum), c.rejected_logps));
          expect(logpErr).toBeLessThan(1e-4);
          expect(Math.abs(res.loss.loss - c.loss_value)).toBeLessThan(1e-4 * Math.abs(c.loss_value));
          const n = pairs.length;
          const s = res.loss.sums;
          const metrics: Record<string, number> = {
            'rewards/chosen': s.rewardsChosen / n, 'rewards/rejected': s.rewardsRejected / n, 'rewards/margins': s.margins / n,
            'rewards/accuracies': s.accuracies / n, 'logps/chosen': s.logpsChosen / n, 'logps/rejected': s.logpsRejected / n,
            nll_loss: res.loss.nll, // 0 with cpo_alpha 0, as TRL logs it (the simpo cases)
          };
          for (const [k, v] of Object.entries(metrics)) {
            // TRL computes accuracies in float32 (0.2000000029…).
            expect(Math.abs(v - c.metrics[k]), k).toBeLessThan(k === 'rewards/accuracies' ? 1e-7 : 1e-4 * Math.abs(c.metrics[k]) + 1e-6);
          }
          const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(resolve(dir, c.grads))), c.grads));
          const got = await readLora(ctx, lora, 'grads');
          expect([...got.keys()].sort()).toEqual([...st.tensors.keys()].sort());
          let gradErr = 0;
          for (const [name, info] of st.tensors) {
            const ref = toFloat32(info, await st.read(name));
            const mine = got.get(name)!;
            // Per tensor: the largest error relative to the tensor's largest entry.
            let max = 0;
            let err = 0;
            for (let i = 0; i < ref.length; i++) {
              max = Math.max(max, Math.abs(ref[i]));
              err = Math.max(err, Math.abs(mine[i] - ref[i]));
            }
            expect(err / max, name).toBeLessThan(1e-3);
            gradErr = Math.max(gradErr, err / max);
          }
          console.log(`golden-hf ${arch} ${c.quant} ${c.loss}: log-prob max rel err ${logpErr.toExponential(2)}, loss rel err ${(Math.abs(res.loss.loss - c.loss_value) / Math.abs(c.loss_value)).toExponential(2)}, grad max err / max|grad| ${gradErr.toExponential(2)}`);
        } finally {
          tf.release();
          releaseLora(ctx, lora);
        }
      });
    }
  });
}
