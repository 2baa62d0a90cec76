// `cli train`: a CPO run in Node on the studio's engine (LocalEngine with a folder run store), checkpointing
// into ADAPTER_DIR/checkpoints, writing the PEFT adapter, the history and the TRL recipe into ADAPTER_DIR at the
// end from the last checkpoint — the same export the studio offers. `--resume` continues the run found there.
// Ctrl-C pauses at the next step boundary, checkpoints, writes the adapter and exits 130.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTER_DTYPES, type AdapterDtype } from '../engine/exports.ts';
import { LocalEngine } from '../engine/local.ts';
import type { AdapterFiles } from '../engine/types.ts';
import { nodeFiles } from '../model/node-files.ts';
import { QUANTS } from '../model/projections.ts';
import { SCHEDULES, type RunConfig, type RunEvent, type StepMetrics } from '../train/config.ts';
import { LOSS_TYPES } from '../train/losses.ts';
import { FolderRunStore } from '../train/node-store.ts';
import { PRESETS, presetConfig, validateRunConfig } from '../train/presets.ts';
import { command, helpOr, parseArgs, required, UsageError, type ArgSpec } from './args.ts';
import { isHfDatasetSpec } from '../io/hub-datasets.ts';
import { checkReport, dataBlob, log, modelFolder, progressLog, readData, STRICT_OPTION } from './session.ts';

const int = { type: 'number', integer: true } as const;
const spec: ArgSpec = {
  model: { type: 'string', help: 'Hugging Face model folder, .gguf file, or Hub id OWNER/NAME[@REVISION] (Hugging Face cache)' },
  data: { type: 'string', help: 'preference file (any supported container and row format) or hf://datasets/OWNER/NAME[/CONFIG/SPLIT]' },
  out: { type: 'string', help: 'adapter folder (PEFT files at the end, checkpoints/ inside)' },
  preset: { type: 'string', default: 'quick', choices: [...Object.keys(PRESETS), 'custom'], help: 'starting settings' },
  resume: { type: 'boolean', help: 'continue the run found in --out (may raise --max-steps or --epochs)' },
  'stretch-schedule': { type: 'boolean', help: 'with --resume and a new step budget: recompute warmup and decay over it (default: keep the original schedule)' },
  epochs: { type: 'number', min: 0, minExclusive: true, help: 'epochs' },
  'max-steps': { ...int, min: 0, help: 'optimizer steps (0: from epochs)' },
  lr: { type: 'number', min: 0, minExclusive: true, help: 'peak learning rate' },
  'batch-size': { ...int, min: 1, help: 'pairs per micro-batch' },
  'grad-accum': { ...int, min: 1, help: 'micro-batches per optimizer step' },
  r: { ...int, min: 1, help: 'LoRA rank' },
  alpha: { type: 'number', min: 0, minExclusive: true, help: 'lora_alpha' },
  dropout: { type: 'number', min: 0, max: 0.99, help: 'lora_dropout' },
  targets: { type: 'string', help: 'comma-separated modules (q_proj,…,down_proj) or all-linear' },
  rslora: { type: 'boolean', help: 'use rsLoRA scaling alpha/sqrt(r)' },
  beta: { type: 'number', min: 0, minExclusive: true, help: 'β' },
  loss: { type: 'string', choices: LOSS_TYPES, help: 'loss type' },
  'cpo-alpha': { type: 'number', min: 0, help: 'weight of the NLL term' },
  'label-smoothing': { type: 'number', min: 0, max: 0.49, help: 'label smoothing (sigmoid, simpo)' },
  'simpo-gamma': { type: 'number', min: 0, help: 'SimPO γ' },
  'weight-decay': { type: 'number', min: 0, help: 'AdamW weight decay' },
  schedule: { type: 'string', choices: SCHEDULES, help: 'learning-rate schedule' },
  'warmup-ratio': { type: 'number', min: 0, max: 0.99, help: 'warmup as a fraction of the steps' },
  'warmup-steps': { ...int, min: 0, help: 'warmup steps (overrides the ratio)' },
  'max-grad-norm': { type: 'number', min: 0, help: 'gradient clipping (0: off)' },
  quant: { type: 'string', choices: QUANTS, help: 'base linear layers' },
  'max-length': { ...int, min: 8, help: 'max tokens of prompt + completion' },
  'max-prompt-length': { ...int, min: 1, help: 'max prompt tokens' },
  'eval-fraction': { type: 'number', default: 0.05, min: 0, max: 0.9, help: 'share of pairs held out for evaluation' },
  'eval-every': { ...int, min: 0, help: 'evaluate every N steps (0: at the end only)' },
  'checkpoint-every': { ...int, min: 0, help: 'checkpoint every N steps' },
  seed: { ...int, help: 'seed (data order, LoRA init, dropout)' },
  dtype: { type: 'string', default: 'f32', choices: ADAPTER_DTYPES, help: 'adapter dtype' },
  strict: STRICT_OPTION,
};
const SYNOPSIS = '--model PATH --data FILE --out ADAPTER_DIR [options]';

const FIELDS: [string, keyof RunConfig][] = [
  ['epochs', 'epochs'], ['max-steps', 'maxSteps'], ['lr', 'lr'], ['batch-size', 'batchSize'], ['grad-accum', 'gradAccum'],
  ['r', 'r'], ['alpha', 'alpha'], ['dropout', 'dropout'], ['beta', 'beta'], ['loss', 'loss'], ['cpo-alpha', 'cpoAlpha'],
  ['label-smoothing', 'labelSmoothing'], ['simpo-gamma', 'simpoGamma'], ['weight-decay', 'weightDecay'], ['schedule', 'schedule'],
  ['warmup-ratio', 'warmupRatio'], ['warmup-steps', 'warmupSteps'], ['max-grad-norm', 'maxGradNorm'], ['quant', 'quant'],
  ['max-length', 'maxLength'], ['max-prompt-length', 'maxPromptLength'], ['eval-every', 'evalEvery'], ['checkpoint-every', 'checkpointEvery'], ['seed', 'seed'],
];

function writeFiles(dir: string, files: AdapterFiles): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files.files) writeFileSync(join(dir, f.name), f.bytes);
}

export const trainCommand = command('train', async (argv: string[]): Promise<number> => {
  const a = parseArgs(argv, spec, 'train');
  if (helpOr(a, 'train', SYNOPSIS, spec)) return 0;
  const outDir = required<string>(a, 'out', 'train');
  const modelPath = required<string>(a, 'model', 'train');
  const dataPath = required<string>(a, 'data', 'train');
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`${outDir}: is a file, but --out names the adapter folder`);
  const ckDir = join(outDir, 'checkpoints');
  const store = new FolderRunStore(ckDir);
  const engine = new LocalEngine(store, '/', nodeFiles);
  engine.deviceLossResumes = 1; // the CLI retries once after a lost GPU device, then exits naming the checkpoint
  engine.stretchSchedule = !!a['stretch-schedule'];
  try {
    const previous = await engine.listRuns(); // newest first
    if (a.resume && !previous.length) throw new Error(`${ckDir}: no run to resume`);
    const overrides: Partial<RunConfig> = {};
    for (const [flag, field] of FIELDS) if (a[flag] !== undefined) (overrides as Record<string, unknown>)[field] = a[flag];
    if (a.targets !== undefined) overrides.targets = a.targets === 'all-linear' ? 'all-linear' : String(a.targets).split(',');
    if (a.rslora) overrides.useRslora = true;
    const resumed = a.resume ? previous[0] : null;
    const cfg: RunConfig = resumed
      ? { ...resumed.config, ...(overrides.maxSteps !== undefined ? { maxSteps: overrides.maxSteps } : {}), ...(overrides.epochs !== undefined ? { epochs: overrides.epochs } : {}) }
      : presetConfig(a.preset as string, overrides);
    if (resumed && Object.keys(overrides).some((k) => k !== 'maxSteps' && k !== 'epochs')) log("note: --resume keeps the run's settings; only --max-steps and --epochs may change");
    const errors = validateRunConfig(cfg);
    if (errors.length) throw new UsageError(`train: invalid settings:\n  ${errors.join('\n  ')}`);
    const hubData = isHfDatasetSpec(dataPath);
    const blob = hubData ? null : await dataBlob(dataPath);
    const modelDir = await modelFolder(modelPath);

    const gpu = await engine.gpuInfo();
    if (!gpu.available) throw new Error(gpu.message ?? 'no WebGPU adapter');
    log(`gpu: ${gpu.adapter}${gpu.f16 ? ', shader-f16' : ''}${gpu.subgroups ? ', subgroups' : ''}`);
    // A Hub id is the adapter's base_model_name_or_path, not the cache folder it resolved to (PEFT and the recipe
    // download by id; the cache path only exists on this machine).
    await engine.loadModel({ kind: 'path', path: modelDir, name: modelDir === modelPath ? modelPath : modelPath.split('@')[0] }, cfg.quant, progressLog('model'));
    const evalFraction = a['eval-fraction'] as number;
    const dataOpts = { maxLength: cfg.maxLength, maxPromptLength: cfg.maxPromptLength, evalFraction, seed: cfg.seed };
    const info = blob ? await engine.loadDataset(blob, dataOpts, progressLog('data')) : engine.useDataset(await readData(dataPath), dataOpts, progressLog('data'));
    checkReport(engine.dataset!.report, !!a.strict);
    if (!resumed) {
      // A fresh run replaces what an earlier one left in this folder (resume picks the newest run).
      for (const r of previous) await engine.deleteRun(r.id);
      if (previous.length) log(`note: ${ckDir}: the previous run's checkpoint is replaced`);
    }
    log(`train: ${info.trainPairs} train / ${info.evalPairs} eval pairs, LoRA r ${cfg.r} on ${cfg.targets === 'all-linear' ? 'all-linear' : cfg.targets.join(',')}${resumed ? `, resuming at step ${resumed.step}` : ''}`);
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      log('\ninterrupted: checkpointing…');
      void engine.pause();
    };
    process.once('SIGINT', onSignal);
    let rec;
    try {
      rec = await engine.train(cfg, progress(), resumed?.id);
    } finally {
      process.off('SIGINT', onSignal);
    }
    const saved = await store.load(rec.id);
    if (!saved) {
      log(`\n${rec.status} at step ${rec.step}/${rec.totalSteps}; no checkpoint was written, so there is no adapter to export`);
      return interrupted ? 130 : 1;
    }
    writeFiles(outDir, await engine.exportAdapter(rec.id, a.dtype as AdapterDtype));
    const s = saved.state;
    writeFileSync(join(outDir, 'training_history.json'), JSON.stringify({ config: s.config, history: s.history, evals: s.evals }, null, 1));
    if (cfg.loss !== 'sft') writeFiles(join(outDir, 'trl-recipe'), await engine.recipeFiles(rec.id));
    log(`\n${rec.status} at step ${s.step}/${s.totalSteps}; adapter written to ${outDir}${interrupted ? ' (interrupted: continue with --resume)' : ''}`);
    // 130: interrupted by SIGINT, as shells report it, after the checkpoint and the adapter are safe.
    return interrupted ? 130 : rec.status === 'failed' ? 1 : 0;
  } finally {
    engine.dispose();
  }
});

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
