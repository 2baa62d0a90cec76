// The whole engine against what transformers' own Qwen3 and Gemma 3 classes, PEFT and TRL's CPOTrainer compute in
// float64 (../shared/golden-hf, see its README): log-probs, loss, TRL's metrics and every LoRA gradient, for
// none / q8_0 / q4_0 bases and the sigmoid and simpo losses. Both config formats are checked in config.test.ts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { tokenLogp } from '../../src/generate/sampling.ts';
import { GgmlType, GgufValueType, hfToGgufName } from '../../src/io/gguf.ts';
import { writeGguf, type GgufEntry, type GgufTensorToWrite } from '../../src/io/gguf-writer.ts';
import { importPeftAdapter } from '../../src/io/peft.ts';
import { openSafetensors, toFloat32 } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { adapterInit } from '../../src/model/adapter.ts';
import { parseConfig } from '../../src/model/config.ts';
import { openModel, type FileProvider, type OpenedModel } from '../../src/model/load.ts';
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

/**
 * The golden case's PEFT adapter (DIR/adapter) as the LoRA the engine trains, dropout off, checked against
 * `configJson` (the opened model's; the Hugging Face config.json when the model was opened from a GGUF file).
 */
async function goldenLora(ctx: GpuContext, dir: string, opened: OpenedModel, configJson: unknown = opened.configJson) {
  const adir = resolve(dir, 'adapter');
  const adapter = await importPeftAdapter(
    { config: readFileSync(resolve(adir, 'adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(resolve(adir, 'adapter_model.safetensors'))) },
    configJson as never,
  );
  const ad = adapterInit(adapter);
  return createLora(ctx, opened.cfg, { ...ad.config, dropout: 0 }, 0, ad.init);
}

const u32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.UINT32, value });
const f32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.FLOAT32, value });
const oneFile = (name: string, bytes: Uint8Array): FileProvider => ({ name, files: () => [name], open: async () => memorySource(bytes, name) });

/** The golden-hf model of `arch` as a GGUF (F32 tensors), the way convert_hf_to_gguf lays it out. */
async function toGguf(arch: 'qwen3' | 'gemma3'): Promise<Uint8Array> {
  const dir = resolve(HF, arch, 'model');
  const cfg = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
  const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(resolve(dir, 'model.safetensors'))), 'model.safetensors'));
  const tensors: GgufTensorToWrite[] = [];
  for (const [name, info] of st.tensors) {
    const gname = hfToGgufName(name, arch);
    if (!gname) throw new Error(`no GGUF name for ${name}`);
    let v = toFloat32(info, await st.read(name));
    if (arch === 'gemma3' && name.endsWith('norm.weight')) v = v.map((w) => w + 1); // convert_hf_to_gguf's Gemma norms
    tensors.push({ name: gname, type: GgmlType.F32, dims: [...info.shape].reverse(), data: new Uint8Array(v.buffer) });
  }
  const meta: GgufEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: arch },
    u32(`${arch}.block_count`, cfg.num_hidden_layers),
    u32(`${arch}.context_length`, cfg.max_position_embeddings),
    u32(`${arch}.embedding_length`, cfg.hidden_size),
    u32(`${arch}.feed_forward_length`, cfg.intermediate_size),
    u32(`${arch}.attention.head_count`, cfg.num_attention_heads),
    u32(`${arch}.attention.head_count_kv`, cfg.num_key_value_heads),
    u32(`${arch}.attention.key_length`, cfg.head_dim),
    u32(`${arch}.attention.value_length`, cfg.head_dim),
    f32(`${arch}.attention.layer_norm_rms_epsilon`, cfg.rms_norm_eps),
    f32(`${arch}.rope.freq_base`, arch === 'gemma3' ? cfg.rope_parameters.full_attention.rope_theta : cfg.rope_parameters.rope_theta),
  ];
  if (arch === 'gemma3') meta.push(u32('gemma3.attention.sliding_window', cfg.sliding_window), u32('gemma3.attention.sliding_window_pattern', 2));
  return writeGguf(meta, tensors);
}

for (const arch of ['qwen3', 'gemma3'] as const) {
  // The first test of each model compiles its pipelines (~1 min alone on SwiftShader, several under a loaded CI).
  describe(`${arch} against transformers + PEFT + TRL in float64 (shared/golden-hf)`, { timeout: 400_000 }, () => {
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
      const lora = await goldenLora(ctx, dir, opened);
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
        const lora = await goldenLora(ctx, dir, opened);
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
    /** Σ log p of the golden pairs' chosen and rejected answers, with the golden adapter. */
    async function logps(arch: string, opened: Awaited<ReturnType<typeof openModel>>): Promise<number[]> {
      const dir = resolve(HF, arch);
      const g = JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8'));
      const pairs = g.examples.map((e: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }) => ({ promptIds: e.prompt_ids, chosenIds: e.chosen_ids, rejectedIds: e.rejected_ids }));
      const base = await loadBaseModel(ctx, opened.cfg, opened.reader, 'none');
      const lora = await goldenLora(ctx, dir, opened, JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')));
      const tf = new Transformer(ctx, base, lora);
      try {
        const chosenTokens = pairs.reduce((a: number, p: { chosenIds: number[] }) => a + p.chosenIds.length, 0);
        const res = await runMicroBatch(tf, pairs, { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 }, { pairs: pairs.length, chosenTokens }, { backward: false, accumulate: false, dropoutSeed: null });
        return res.logps.flatMap((l) => [l.chosenSum, l.rejectedSum]);
      } finally {
        tf.release();
        releaseLora(ctx, lora);
        releaseBaseModel(ctx, base);
        await opened.close();
      }
    }

    it.runIf(arch === 'qwen3')("GGUF as llama.cpp writes it: the same model as the Hugging Face folder, and transformers' log-probs", async () => {
      const dir = resolve(HF, 'qwen3');
      const opened = await openModel(oneFile('qwen3.gguf', await toGguf('qwen3')));
      const hfCfg = parseConfig(JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')));
      // The GGUF written here has no token ids nor the HF position limit, and holds ε as f32.
      const strip = ({ bosId: _b, eosId: _e, maxPositions: _m, eps, ...rest }: typeof hfCfg) => ({ ...rest, eps: Math.fround(eps) });
      expect(strip(opened.cfg)).toEqual(strip(hfCfg));
      const c = JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8')).cases[0];
      expect(c).toMatchObject({ quant: 'none', loss: 'sigmoid' });
      const want = c.chosen_logps.flatMap((x: number, i: number) => [x, c.rejected_logps[i]]);
      expect(relErr(await logps('qwen3', opened), want)).toBeLessThan(1e-4);
    });

    it.runIf(arch === 'gemma3')('GGUF as llama.cpp writes it: norms stored as 1 + w, scores scaled by head_dim^-½ as llama.cpp does; the same log-probs as the HF folder', async () => {
      const dir = resolve(HF, 'gemma3');
      const opened = await openModel(oneFile('gemma3.gguf', await toGguf('gemma3')));
      // llama.cpp has no query_pre_attn_scalar: it scales by head_dim^-½ (hidden/heads on the 27B). The golden
      // model's 24 cannot be written to a GGUF, so the Hugging Face folder is given head_dim to compare with.
      const json = { ...JSON.parse(readFileSync(resolve(dir, 'model/config.json'), 'utf8')), query_pre_attn_scalar: 32 };
      const hfCfg = parseConfig(json);
      const strip = ({ bosId: _b, eosId: _e, maxPositions: _m, normPlusOne: _n, eps, ...rest }: typeof hfCfg) => ({ ...rest, eps: Math.fround(eps) });
      expect(strip(opened.cfg)).toEqual(strip(hfCfg));
      expect(opened.cfg.normPlusOne).toBe(false);
      const files = new Map([
        ['config.json', new TextEncoder().encode(JSON.stringify(json))],
        ['model.safetensors', new Uint8Array(readFileSync(resolve(dir, 'model/model.safetensors')))],
      ]);
      const hf = await openModel({ name: 'gemma3', files: () => [...files.keys()], open: async (f) => memorySource(files.get(f)!, f) });
      expect(relErr(await logps('gemma3', opened), await logps('gemma3', hf))).toBeLessThan(1e-6);
    });

  });
}
