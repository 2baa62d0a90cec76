// `cli logps` and `cli grads`: one batch (the whole file) through the model, as other tools call it:
// the log-probs, loss and metrics as JSON, or d(loss)/d(LoRA parameter) as safetensors named as PEFT names them.
import { writeFileSync } from 'node:fs';
import { writeSafetensors } from '../io/safetensors.ts';
import { kernelEnv } from '../kernels/env.ts';
import { planBytes, unionDims, usesAttnDs } from '../model/workspace.ts';
import { readLora, releaseLora, resolveTargets } from '../model/lora.ts';
import { releaseBaseModel } from '../model/model.ts';
import { batchDims, Transformer } from '../model/transformer.ts';
import { loraSettings } from '../train/config.ts';
import { LOSS_TYPES, validateLossConfig, type LossConfig, type LossType } from '../train/losses.ts';
import { layoutGroups, runMicroBatch } from '../train/step.ts';
import { prepareDataset, type PreparedDataset } from '../engine/session.ts';
import { stepPlans } from '../engine/precompile.ts';
import type { ModelConfig } from '../model/config.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import { QUANTS, type Quant } from '../model/projections.ts';
import { command, helpOr, parseArgs, required, UsageError, type ArgSpec } from './args.ts';
import { checkOutFile, checkReport, loadModelFromPath, log, loraFor, openGpu, progressLog, readData, requireTokenizer, STRICT_OPTION } from './session.ts';

const spec: ArgSpec = {
  model: { type: 'string', help: 'Hugging Face model folder, .gguf file, or Hub id OWNER/NAME[@REVISION] (Hugging Face cache)' },
  adapter: { type: 'string', help: 'PEFT adapter folder (default: a fresh LoRA, B = 0)' },
  quant: { type: 'string', default: 'q4_0', choices: QUANTS, help: 'base linear layers' },
  data: { type: 'string', help: 'preference file (JSONL {prompt, chosen, rejected}; any supported format) or hf://datasets/OWNER/NAME[/CONFIG/SPLIT]' },
  beta: { type: 'number', default: 0.1, min: 0, minExclusive: true, help: 'β' },
  loss: { type: 'string', default: 'sigmoid', choices: LOSS_TYPES, help: 'loss type' },
  'cpo-alpha': { type: 'number', default: 1, min: 0, help: 'weight of the NLL term' },
  'label-smoothing': { type: 'number', default: 0, min: 0, max: 0.49, help: 'sigmoid/simpo label smoothing' },
  'simpo-gamma': { type: 'number', default: 0.5, min: 0, help: 'SimPO target margin γ' },
  r: { type: 'number', default: 16, integer: true, min: 1, help: 'rank of a fresh LoRA' },
  alpha: { type: 'number', default: 32, min: 0, minExclusive: true, help: 'lora_alpha of a fresh LoRA' },
  targets: { type: 'string', default: 'all-linear', help: 'modules of a fresh LoRA (comma-separated, or all-linear)' },
  seed: { type: 'number', default: 42, integer: true, help: 'seed of a fresh LoRA' },
  out: { type: 'string', help: 'output file (.json for logps, .safetensors for grads)' },
  strict: STRICT_OPTION,
  profile: { type: 'boolean', help: "print the step's GPU time per kernel (needs the adapter's timestamp-query feature)" },
};

export const logpsCommand = (mode: 'logps' | 'grads') => command(mode, (argv) => logps(argv, mode));

async function logps(argv: string[], mode: 'logps' | 'grads'): Promise<number> {
  const a = parseArgs(argv, spec, mode);
  if (helpOr(a, mode, '--model PATH --data FILE --out FILE [options]', spec)) return 0;
  const lossCfg: LossConfig = {
    loss: a.loss as LossType,
    beta: a.beta as number,
    cpoAlpha: a['cpo-alpha'] as number,
    labelSmoothing: a['label-smoothing'] as number,
    simpoGamma: a['simpo-gamma'] as number,
  };
  validateLossConfig(lossCfg);
  const quant = a.quant as Quant;
  const out = required<string>(a, 'out', mode);
  const modelPath = required<string>(a, 'model', mode);
  const dataPath = required<string>(a, 'data', mode);
  checkOutFile(out);
  let fresh;
  try {
    fresh = loraSettings({ r: a.r as number, alpha: a.alpha as number, targets: a.targets === 'all-linear' ? 'all-linear' : String(a.targets).split(','), useRslora: false });
  } catch (e) {
    throw new UsageError(`${mode}: --targets: ${(e as Error).message}`);
  }
  const read = await readData(dataPath);
  checkReport(read.report, !!a.strict, 'on-error'); // refused before the model loads when the rows as read already fail
  const ctx = await openGpu();
  // One step follows the load, so on a CPU adapter the attention forward's cheapest compile wins: 2 query rows per
  // invocation compiled in 3.6 s against 16.9 s for the training default of 8 (SwiftShader, D 64), and cost 0.28 s
  // more in the step (its six dispatches 535 ms against 256; #18's 3-layer Llama, 8 demo pairs). Since the forward
  // splits each row group over 4 subgroup lanes, those compiles are 0.6 s and 2.4 s. Likewise DKDV with
  // 1 key per invocation: 1.4-1.7 s to compile against 3.2-4.1 s for 2 (D 64, with the dS store), created beside the
  // forward on a 2-core machine, for ~0.1 s more in the step (three dispatches 344 ms against 242-284, profiled).
  // A forced value stays.
  const { rows, keys } = kernelEnv.attention;
  kernelEnv.attention.rows ??= 2;
  kernelEnv.attention.keys ??= 1;
  try {
    // The dataset is tokenized as soon as the tokenizer is read, so the step's exact pipelines are created while
    // the weights load. No truncation and no split: every pair is scored whole, as other tools score it.
    const prepare = (tokenizer: TextTokenizer, cfg: ModelConfig) =>
      prepareDataset(read, tokenizer, { maxLength: 1e9, maxPromptLength: 1e9 - 1, evalFraction: 0, seed: 0 }, progressLog('data'), cfg.maxPositions);
    let early: PreparedDataset | null = null;
    const m = await loadModelFromPath(ctx, modelPath, quant, (cfg, tokenizer) => {
      if (!tokenizer) return null;
      const d = (early = prepare(tokenizer, cfg));
      // An adapter folder's rank and targets are read later: the fresh LoRA's settings stand in (the costly
      // kernels do not depend on them); dropout is off in this command.
      return d.pairs.length ? stepPlans(d.pairs, { r: fresh.r, targets: resolveTargets(fresh.targets), dropout: 0 }, mode === 'grads') : null;
    }, 'forward'); // one step follows at once: its backward's pipelines are created while its forward runs
    const d: PreparedDataset = early ?? prepare(requireTokenizer(m), m.opened.cfg);
    checkReport(d.report, !!a.strict);
    const pairs = d.pairs;
    const lora = await loraFor(ctx, m, a.adapter as string | undefined, fresh, a.seed as number);
    const tf = new Transformer(ctx, m.base, lora);
    const chosenTokens = pairs.reduce((s, p) => s + p.chosenIds.length, 0);
    // The layouts the step runs (no dropout here): each prompt once, unless kernelEnv.step says otherwise, in groups of
    // similar length; the workspace holds the largest of each dimension.
    const dims = layoutGroups(pairs, null, false).map((g) => batchDims(g.batch, lora.R)).reduce(unionDims);
    const planned = planBytes(m.opened.cfg, dims, mode === 'grads', usesAttnDs(ctx, m.opened.cfg, dims, mode === 'grads'));
    log(`memory: base ${m.base.bytes} bytes, LoRA ${lora.params * 4 * (mode === 'grads' ? 6 : 2)} bytes, planned step workspace ${planned} bytes`);
    ctx.resetPeak();
    // Each dispatch in a pass of its own between timestamps: the step's total grows a little, the shares hold.
    const profiler = a.profile ? ctx.profile() : null;
    const t0 = performance.now();
    const rest = m.precompiled.rest?.then((n) => ({ n, ms: performance.now() - t0 }));
    const pipelines0 = ctx.pipelineCount;
    const res = await runMicroBatch(tf, pairs, lossCfg, { pairs: pairs.length, chosenTokens }, { backward: mode === 'grads', accumulate: false, dropoutSeed: null });
    ctx.profiler = null;
    const secs = (ms: number) => (ms / 1000).toFixed(2);
    const more = await rest;
    const created = Math.max(0, ctx.pipelineCount - pipelines0 - (more?.n ?? 0));
    const beside = more?.n ? `, ${more.n} more ready ${secs(more.ms)} s into the step (beside its forward)` : '';
    const compile = `compile ${secs(m.precompiled.ms)} s ahead (${m.precompiled.pipelines} pipelines, beside the weights' load)${beside}, ${created} created in the step`;
    log(`${mode}: ${pairs.length} pairs, ${res.tokens} tokens (${res.rowTokens} run) in ${secs(performance.now() - t0)} s (${compile}); loss ${res.loss.loss}; peak GPU bytes ${ctx.peakBytes}`);
    if (profiler) log(`GPU time per kernel (timestamps around each dispatch):\n${profiler.table()}`);
    const n = pairs.length;
    const metrics = {
      loss: res.loss.loss,
      nll_loss: res.loss.nll,
      'rewards/chosen': res.loss.sums.rewardsChosen / n,
      'rewards/rejected': res.loss.sums.rewardsRejected / n,
      'rewards/accuracies': res.loss.sums.accuracies / n,
      'rewards/margins': res.loss.sums.margins / n,
      'logps/chosen': res.loss.sums.logpsChosen / n,
      'logps/rejected': res.loss.sums.logpsRejected / n,
      'logits/chosen': res.logitSums.chosen / (res.logitSums.chosenPositions * m.opened.cfg.V),
      'logits/rejected': res.logitSums.rejected / (res.logitSums.rejectedPositions * m.opened.cfg.V),
    };
    if (mode === 'logps') {
      const examples = pairs.map((p, i) => ({
        prompt_ids: p.promptIds,
        chosen_ids: p.chosenIds,
        rejected_ids: p.rejectedIds,
        chosen_logp: res.logps[i].chosenSum,
        rejected_logp: res.logps[i].rejectedSum,
      }));
      writeFileSync(out, JSON.stringify({ examples, loss: res.loss.loss, metrics }, null, 1));
    } else {
      const grads = await readLora(ctx, lora, 'grads');
      const tensors = [...grads].map(([name, data]) => {
        const shape = name.includes('lora_A') ? [lora.R, data.length / lora.R] : [data.length / lora.R, lora.R];
        return { name, dtype: 'F32' as const, shape, data };
      });
      writeFileSync(out, writeSafetensors(tensors, { loss: String(res.loss.loss), format: 'pt' }));
    }
    log(`wrote ${out}`);
    tf.release();
    releaseLora(ctx, lora);
    releaseBaseModel(ctx, m.base);
    return 0;
  } finally {
    kernelEnv.attention.rows = rows;
    kernelEnv.attention.keys = keys;
    ctx.destroy();
  }
}
