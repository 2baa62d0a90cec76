// `cli logps` and `cli grads`: one batch (the whole file) through the model, as other tools call it:
// the log-probs, loss and metrics as JSON, or d(loss)/d(LoRA parameter) as safetensors named as PEFT names them.
import { writeFileSync } from 'node:fs';
import { writeSafetensors } from '../io/safetensors.ts';
import { layoutPairs } from '../model/batch.ts';
import { planBytes, usesAttnDs } from '../model/workspace.ts';
import { readLora, releaseLora } from '../model/lora.ts';
import { releaseBaseModel } from '../model/model.ts';
import { Transformer } from '../model/transformer.ts';
import { LOSS_TYPES, validateLossConfig, type LossConfig, type LossType } from '../train/losses.ts';
import { runMicroBatch } from '../train/step.ts';
import { parseArgs, required, usage, type ArgSpec } from './args.ts';
import { loadModelFromPath, loadPairs, log, loraFor, openGpu, parseQuant } from './session.ts';

const spec: ArgSpec = {
  model: { type: 'string', help: 'Hugging Face model folder or .gguf file' },
  adapter: { type: 'string', help: 'PEFT adapter folder (default: a fresh LoRA, B = 0)' },
  quant: { type: 'string', default: 'q4_0', help: 'base linear layers: none | q8_0 | q4_0 | f16' },
  data: { type: 'string', help: 'preference file (JSONL {prompt, chosen, rejected}; any supported format)' },
  beta: { type: 'number', default: 0.1, help: 'β' },
  loss: { type: 'string', default: 'sigmoid', help: LOSS_TYPES.join(' | ') },
  'cpo-alpha': { type: 'number', default: 1, help: 'weight of the NLL term' },
  'label-smoothing': { type: 'number', default: 0, help: 'sigmoid/simpo label smoothing' },
  'simpo-gamma': { type: 'number', default: 0.5, help: 'SimPO target margin γ' },
  r: { type: 'number', default: 16, help: 'rank of a fresh LoRA' },
  alpha: { type: 'number', default: 32, help: 'lora_alpha of a fresh LoRA' },
  targets: { type: 'string', default: 'all-linear', help: 'modules of a fresh LoRA' },
  seed: { type: 'number', default: 42, help: 'seed of a fresh LoRA' },
  out: { type: 'string', help: 'output file (.json for logps, .safetensors for grads)' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function logpsCommand(argv: string[], mode: 'logps' | 'grads'): Promise<number> {
  const a = parseArgs(argv, spec, mode);
  if (a.help) {
    console.log(usage(mode, '--model PATH --data FILE --out FILE [options]', spec));
    return 0;
  }
  const lossCfg: LossConfig = {
    loss: a.loss as LossType,
    beta: a.beta as number,
    cpoAlpha: a['cpo-alpha'] as number,
    labelSmoothing: a['label-smoothing'] as number,
    simpoGamma: a['simpo-gamma'] as number,
  };
  validateLossConfig(lossCfg);
  const quant = parseQuant(a.quant);
  const out = required<string>(a, 'out', mode);
  const ctx = await openGpu();
  try {
    const m = await loadModelFromPath(ctx, required<string>(a, 'model', mode), quant);
    const { pairs } = await loadPairs(required<string>(a, 'data', mode), m.tokenizer, { maxLength: 1e9, maxPromptLength: 1e9 - 1 });
    const targets = a.targets === 'all-linear' ? 'all-linear' : (String(a.targets).split(',') as never);
    const lora = await loraFor(ctx, m, a.adapter as string | undefined, { r: a.r as number, alpha: a.alpha as number, dropout: 0, targets, useRslora: false }, a.seed as number);
    const tf = new Transformer(ctx, m.base, lora);
    const chosenTokens = pairs.reduce((s, p) => s + p.chosenIds.length, 0);
    const layout = layoutPairs(pairs);
    const dims = { M: layout.M, nSeq: layout.nSeq, T: layout.T, S: layout.S, R: lora.R };
    const planned = planBytes(m.opened.cfg, dims, mode === 'grads', usesAttnDs(ctx, m.opened.cfg, dims, mode === 'grads'));
    log(`memory: base ${m.base.bytes} bytes, LoRA ${lora.params * 4 * (mode === 'grads' ? 6 : 2)} bytes, planned step workspace ${planned} bytes`);
    ctx.resetPeak();
    const t0 = performance.now();
    const res = await runMicroBatch(tf, pairs, lossCfg, { pairs: pairs.length, chosenTokens }, { backward: mode === 'grads', accumulate: false, dropoutSeed: null });
    log(`${mode}: ${pairs.length} pairs, ${res.tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(2)} s; loss ${res.loss.loss}; peak GPU bytes ${ctx.peakBytes}`);
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
    ctx.destroy();
  }
}
