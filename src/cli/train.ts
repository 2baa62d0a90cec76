// `cli train`: a CPO run in Node on the same engine as the studio, checkpointing into ADAPTER_DIR/checkpoints,
// writing the PEFT adapter into ADAPTER_DIR at the end. `--resume` continues the run found there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PairBatcher, type PreferenceRow, type TokenizedPair } from '../data/index.ts';
import type { RunConfig, RunEvent, StepMetrics } from '../engine/types.ts';
import { exportLora } from '../model/adapter.ts';
import { createLora, releaseLora, type Lora } from '../model/lora.ts';
import { releaseBaseModel } from '../model/model.ts';
import { Transformer } from '../model/transformer.ts';
import type { Projection } from '../model/config.ts';
import { batchSource, datasetFingerprint } from '../train/batches.ts';
import { FolderRunStore } from '../train/node-store.ts';
import { PRESETS, presetConfig, validateRunConfig } from '../train/presets.ts';
import { buildRecipe } from '../train/recipe.ts';
import { TrainingRun } from '../train/run.ts';
import { runRecovering, type RunSession } from '../train/recover.ts';
import type { Checkpoint } from '../train/checkpoint.ts';
import { Fingerprint } from '../util/hash.ts';
import { parseArgs, required, usage, type ArgSpec } from './args.ts';
import { loadModelFromPath, loadPairs, log, openGpu, parseQuant } from './session.ts';

const spec: ArgSpec = {
  model: { type: 'string', help: 'Hugging Face model folder or .gguf file' },
  data: { type: 'string', help: 'preference file (any supported container and row format)' },
  out: { type: 'string', help: 'adapter folder (PEFT files at the end, checkpoints/ inside)' },
  preset: { type: 'string', default: 'quick', help: `${Object.keys(PRESETS).join(' | ')} | custom` },
  resume: { type: 'boolean', help: 'continue the run found in --out (may raise --max-steps or --epochs)' },
  'stretch-schedule': { type: 'boolean', help: 'with --resume and a new step budget: recompute warmup and decay over it (default: keep the original schedule)' },
  epochs: { type: 'number', help: 'epochs' },
  'max-steps': { type: 'number', help: 'optimizer steps (0: from epochs)' },
  lr: { type: 'number', help: 'peak learning rate' },
  'batch-size': { type: 'number', help: 'pairs per micro-batch' },
  'grad-accum': { type: 'number', help: 'micro-batches per optimizer step' },
  r: { type: 'number', help: 'LoRA rank' },
  alpha: { type: 'number', help: 'lora_alpha' },
  dropout: { type: 'number', help: 'lora_dropout' },
  targets: { type: 'string', help: 'comma-separated modules (q_proj,…,down_proj) or all-linear' },
  rslora: { type: 'boolean', help: 'use rsLoRA scaling alpha/sqrt(r)' },
  beta: { type: 'number', help: 'β' },
  loss: { type: 'string', help: 'sigmoid | hinge | ipo | simpo | dpo | sft' },
  'cpo-alpha': { type: 'number', help: 'weight of the NLL term' },
  'label-smoothing': { type: 'number', help: 'label smoothing (sigmoid, simpo)' },
  'simpo-gamma': { type: 'number', help: 'SimPO γ' },
  'weight-decay': { type: 'number', help: 'AdamW weight decay' },
  schedule: { type: 'string', help: 'constant | linear | cosine | inverse_sqrt' },
  'warmup-ratio': { type: 'number', help: 'warmup as a fraction of the steps' },
  'warmup-steps': { type: 'number', help: 'warmup steps (overrides the ratio)' },
  'max-grad-norm': { type: 'number', help: 'gradient clipping (0: off)' },
  quant: { type: 'string', help: 'base linear layers: none | q8_0 | q4_0 | f16' },
  'max-length': { type: 'number', help: 'max tokens of prompt + completion' },
  'max-prompt-length': { type: 'number', help: 'max prompt tokens' },
  'eval-fraction': { type: 'number', default: 0.05, help: 'share of pairs held out for evaluation' },
  'eval-every': { type: 'number', help: 'evaluate every N steps (0: at the end only)' },
  'checkpoint-every': { type: 'number', help: 'checkpoint every N steps' },
  seed: { type: 'number', help: 'seed (data order, LoRA init, dropout)' },
  dtype: { type: 'string', default: 'f32', help: 'adapter dtype: f32 | f16' },
  help: { type: 'boolean', help: 'show this help' },
};

const FIELDS: [string, keyof RunConfig][] = [
  ['epochs', 'epochs'], ['max-steps', 'maxSteps'], ['lr', 'lr'], ['batch-size', 'batchSize'], ['grad-accum', 'gradAccum'],
  ['r', 'r'], ['alpha', 'alpha'], ['dropout', 'dropout'], ['beta', 'beta'], ['loss', 'loss'], ['cpo-alpha', 'cpoAlpha'],
  ['label-smoothing', 'labelSmoothing'], ['simpo-gamma', 'simpoGamma'], ['weight-decay', 'weightDecay'], ['schedule', 'schedule'],
  ['warmup-ratio', 'warmupRatio'], ['warmup-steps', 'warmupSteps'], ['max-grad-norm', 'maxGradNorm'], ['quant', 'quant'],
  ['max-length', 'maxLength'], ['max-prompt-length', 'maxPromptLength'], ['eval-every', 'evalEvery'], ['checkpoint-every', 'checkpointEvery'], ['seed', 'seed'],
];

const RUN_ID = 'run';

export async function trainCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, spec, 'train');
  if (a.help) {
    console.log(usage('train', '--model PATH --data FILE --out ADAPTER_DIR [options]', spec));
    return 0;
  }
  const outDir = required<string>(a, 'out', 'train');
  const store = new FolderRunStore(join(outDir, 'checkpoints'));
  const resumed = a.resume ? await store.load(RUN_ID) : null;
  if (a.resume && !resumed) throw new Error(`${join(outDir, 'checkpoints')}: no run to resume`);
  const overrides: Partial<RunConfig> = {};
  for (const [flag, field] of FIELDS) if (a[flag] !== undefined) (overrides as Record<string, unknown>)[field] = a[flag];
  if (a.targets !== undefined) overrides.targets = a.targets === 'all-linear' ? 'all-linear' : String(a.targets).split(',');
  if (a.rslora) overrides.useRslora = true;
  const cfg: RunConfig = resumed ? { ...resumed.state.config, ...pick(overrides, ['maxSteps', 'epochs']) } : presetConfig(a.preset as string, overrides);
  if (resumed && Object.keys(overrides).some((k) => k !== 'maxSteps' && k !== 'epochs')) {
    log('note: --resume keeps the run\'s settings; only --max-steps and --epochs may change');
  }
  const errors = validateRunConfig(cfg);
  if (errors.length) throw new Error(`invalid settings:\n  ${errors.join('\n  ')}`);
  const quant = parseQuant(cfg.quant);

  const modelPath = required<string>(a, 'model', 'train');
  const dataPath = required<string>(a, 'data', 'train');
  const evalFraction = a['eval-fraction'] as number;
  const bar = progress();
  let data: { pairs: TokenizedPair[]; rows: PreferenceRow[]; batcher: PairBatcher } | null = null;
  // One device's worth of the run; after a device loss it is built again on a new device from the checkpoint.
  const open = async (ck: Checkpoint | null): Promise<RunSession & { lora: Lora; modelPath: string }> => {
    const ctx = await openGpu();
    try {
      const m = await loadModelFromPath(ctx, modelPath, quant);
      if (!data) {
        const { pairs, rows } = await loadPairs(dataPath, m.tokenizer, { maxLength: cfg.maxLength, maxPromptLength: cfg.maxPromptLength });
        data = { pairs, rows, batcher: new PairBatcher(pairs, { batchSize: cfg.batchSize, seed: cfg.seed, evalFraction }) };
      }
      const { batcher, pairs } = data;
      const lora = createLora(ctx, m.opened.cfg, { r: cfg.r, alpha: cfg.alpha, dropout: cfg.dropout, targets: cfg.targets as Projection[] | 'all-linear', useRslora: cfg.useRslora }, cfg.seed);
      const tf = new Transformer(ctx, m.base, lora);
      const modelFingerprint = new Fingerprint().string(JSON.stringify(m.opened.configJson)).string(quant).hex();
      const run = new TrainingRun(
        ctx, tf, lora, batchSource(batcher), batcher.eval, cfg, store, (e) => bar(e),
        { runId: RUN_ID, modelName: m.opened.name, modelFingerprint, datasetName: dataPath, datasetFingerprint: datasetFingerprint(pairs, cfg.seed, evalFraction) },
        ck ?? undefined,
        { stretchSchedule: !!a['stretch-schedule'] },
      );
      const release = () => {
        run.release();
        tf.release();
        releaseLora(ctx, lora);
        releaseBaseModel(ctx, m.base);
        ctx.destroy();
      };
      return { ctx, run, lora, modelPath, release };
    } catch (e) {
      ctx.destroy();
      throw e;
    }
  };
  const first = await open(resumed);
  const { batcher, rows } = data!;
  log(`train: ${batcher.train.length} train / ${batcher.eval.length} eval pairs, LoRA r ${cfg.r} on ${first.lora.targets.join(',')} (${first.lora.params} parameters), ${first.run.state.totalSteps} steps${resumed ? `, resuming at step ${resumed.state.step}` : ''}`);
  let current = first;
  const stopOnSignal = () => {
    log('\ninterrupted: checkpointing…');
    current.run.pause();
  };
  process.once('SIGINT', stopOnSignal);
  let result;
  try {
    // CLI: one recovery from a lost device, then exit naming the checkpoint (runRecovering's error says it).
    result = await runRecovering(first, {
      store,
      retries: 1,
      notice: (msg) => log(`\n${msg}`),
      describeCheckpoint: (id) => join(store.dir, `${id}.safetensors`),
      open: async (ck) => (current = await open(ck)),
    });
  } finally {
    process.off('SIGINT', stopOnSignal);
  }
  const { status, session } = result;
  const { run, ctx, lora } = session as typeof first;
  try {
    mkdirSync(outDir, { recursive: true });
    const exported = await exportLora(ctx, lora, modelPath, a.dtype === 'f16' ? 'F16' : 'F32');
    writeFileSync(join(outDir, 'adapter_config.json'), exported.config);
    writeFileSync(join(outDir, 'adapter_model.safetensors'), exported.weights);
    writeFileSync(join(outDir, 'training_history.json'), JSON.stringify({ config: cfg, history: run.state.history, evals: run.state.evals }, null, 1));
    if (cfg.loss !== 'sft') {
      const recipeDir = join(outDir, 'trl-recipe');
      mkdirSync(recipeDir, { recursive: true });
      const files = buildRecipe(cfg, modelPath, batcher.train.map((p) => rows[p.index]), batcher.eval.map((p) => rows[p.index]));
      for (const f of files) writeFileSync(join(recipeDir, f.name), f.text);
    }
    log(`\n${status} at step ${run.state.step}/${run.state.totalSteps}; adapter written to ${outDir}`);
    return status === 'failed' ? 1 : 0;
  } finally {
    session.release();
  }
}

function pick<T extends object>(o: T, keys: (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** A one-line progress bar on stderr with ETA and the main metrics. */
function progress(): (e: RunEvent) => void {
  const start = performance.now();
  let first = -1;
  const tty = process.stderr.isTTY;
  return (e) => {
    if (e.type === 'step') {
      const m: StepMetrics = e.metrics;
      if (first < 0) first = m.step - 1;
      const done = m.step - first;
      const elapsed = (performance.now() - start) / 1000;
      const eta = done > 0 ? ((e.totalSteps - m.step) * elapsed) / done : 0;
      const width = 24;
      const fill = Math.round((width * m.step) / e.totalSteps);
      const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${m.step}/${e.totalSteps} ETA ${fmtTime(eta)} loss ${m.loss.toFixed(4)} nll ${m.nll_loss.toFixed(4)} acc ${m['rewards/accuracies'].toFixed(2)} margin ${m['rewards/margins'].toFixed(4)} |g| ${m.grad_norm.toFixed(3)} lr ${m.learning_rate.toExponential(2)} ${m.tokens_per_second.toFixed(0)} tok/s${m.skipped ? ' (skipped: non-finite)' : ''}`;
      process.stderr.write(tty ? `\r${line}` : `${line}\n`);
    } else if (e.type === 'eval') {
      process.stderr.write(`${tty ? '\n' : ''}eval @${e.step}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')}\n`);
    } else if (e.type === 'status' && e.message) {
      process.stderr.write(`\n${e.status}: ${e.message}\n`);
    }
  };
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s` : `${Math.round(s)}s`;
}
