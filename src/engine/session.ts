// The wiring both front doors share: load a model (weights, tokenizer, fingerprint), prepare a dataset (read,
// tokenize, the one train/eval split, the report), start a run. LocalEngine (the studio's worker, tests) and
// every CLI command call these, so a model loads, a dataset splits and a run starts the same way in both.
import { formatReport, PairBatcher, readPreferenceFile, tokenizePairs, withTokenization, type ReadResult, type TokenizedPair } from '../data/index.ts';
import type { ReadOptions } from '../data/read.ts';
import { formatHfDatasetSpec, type HubDatasetOptions, type HubDatasetSpec } from '../io/hub-datasets.ts';
import type { ColumnMapping, PreferenceRow, RowFormat, ValidationReport } from '../data/types.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ggufTokenizerFiles } from '../io/gguf-tokenizer.ts';
import { loadTokenizer } from '../io/tokenizer.ts';
import { openModel, type FileProvider, type OpenedModel } from '../model/load.ts';
import type { ModelConfig } from '../model/config.ts';
import { createLora, releaseLora, resolveTargets, type Lora } from '../model/lora.ts';
import { loadBaseModel, loadPipelines, type BaseModel } from '../model/model.ts';
import type { Quant } from '../model/projections.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import { Transformer } from '../model/transformer.ts';
import { batchSource, datasetFingerprint } from '../train/batches.ts';
import { encodeCheckpoint, type Checkpoint, type RunState, type RunStore } from '../train/checkpoint.ts';
import { loraSettings, type RunConfig, type RunEvent } from '../train/config.ts';
import { planModel } from '../train/memory-plan.ts';
import { presetConfig, validateRunConfig } from '../train/presets.ts';
import { TrainingRun, type RunOptions } from '../train/run.ts';
import { Fingerprint } from '../util/hash.ts';
import { precompileModel, stepPlans, type StepPlan } from './precompile.ts';
import { COMPILE_PHASE, type DataOptions, type DatasetInfo, type HubAccess, type LoadProgress, type ModelInfo } from './types.ts';

export type Progress = (p: LoadProgress) => void;

export interface LoadedModel {
  info: ModelInfo;
  opened: OpenedModel;
  base: BaseModel;
  tokenizer: TextTokenizer | null;
  /**
   * Pipelines created ahead while the weights loaded, and the wall time until both were done; with
   * `compileAhead` 'forward', those of the forward passes, and `rest` (a count) still being created.
   */
  precompiled: { pipelines: number; ms: number; rest: Promise<number> | null };
}

/** What a run checks a resumed model against: the parsed config.json and the storage type. */
export function modelFingerprint(configJson: Record<string, unknown>, quant: Quant): string {
  return new Fingerprint().string(JSON.stringify(configJson)).string(quant).hex();
}

/** The model's tokenizer: tokenizer.json when the folder has one, else the vocabulary inside a GGUF; null if neither. */
export async function modelTokenizer(opened: OpenedModel): Promise<TextTokenizer | null> {
  const tok = opened.tokenizerJson
    ? await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig ?? undefined })
    : opened.ggufMetadata ? await loadTokenizer(ggufTokenizerFiles(opened.ggufMetadata, opened.reader.source)) : null;
  if (tok) checkTokenizerFits(tok, opened);
  return tok;
}

/** A token id past the embedding rows would read another tensor's memory on the GPU: refuse it on load. */
function checkTokenizerFits(tok: TextTokenizer, opened: OpenedModel): void {
  const V = opened.cfg.V;
  const file = opened.tokenizerJson ? 'tokenizer.json' : 'the GGUF vocabulary';
  const n = tok.modelVocabSize ?? tok.vocabSize;
  if (n > V) throw new Error(`${file}: token ids reach ${n - 1}, but the model's embedding has ${V} rows (vocab_size ${V}): tokenizer and weights do not belong together`);
  for (const [name, id] of [['bos', tok.bosId], ['eos', tok.eosId], ['pad', tok.padId]] as const) {
    if (id !== null && id >= V) throw new Error(`${file}: the ${name} token is id ${id}, past the model's ${V} embedding rows (vocab_size ${V})`);
  }
}

/**
 * The steps whose pipelines loadModel creates ahead when its caller names none: a run with the quick preset's
 * shapes (its batch at max_length, its LoRA), accumulating or not, and its forward-only evaluation. A run with
 * other settings still finds the costly kernels (attention, output head, base matmuls) ready: their variants follow
 * the model, not the LoRA, and hardly the length.
 */
export function defaultStepPlans(): StepPlan[] {
  const p = presetConfig('quick'); // cli train's default
  const l = loraSettings(p);
  const lora = { r: l.r, targets: resolveTargets(l.targets), dropout: l.dropout };
  const ids = (n: number) => Array.from({ length: n }, () => 0);
  const pairs = Array.from({ length: p.batchSize }, () => ({ promptIds: ids(p.maxPromptLength), chosenIds: ids(p.maxLength - p.maxPromptLength), rejectedIds: ids(p.maxLength - p.maxPromptLength) }));
  const [train] = stepPlans(pairs, lora, true); // pairs of one length: one group
  // Micro-batches after a step's first (gradient accumulation) and a micro-batch's later length groups add to the
  // gradients: the LoRA gradient kernels' accumulating variants.
  return [train, { ...train, accumulate: true }, { ...train, backward: false }];
}

/** What loadModel compiles ahead: the steps' plans for this model and tokenizer (null: none). */
export type PlanSteps = (cfg: ModelConfig, tokenizer: TextTokenizer | null) => StepPlan[] | null;

/**
 * Opens the model's files, reads its tokenizer, puts the base weights on the GPU in `quant`, and meanwhile creates
 * the pipelines of the steps `plan` names (default: defaultStepPlans) on Dawn's thread (see precompile.ts).
 * Resolves when they are all ready, or with `compileAhead` 'forward' (a command that runs one step right away)
 * once the forward passes' are: the rest are then created while that forward runs.
 */
export async function loadModel(ctx: GpuContext, provider: FileProvider, quant: Quant, name?: string, onProgress?: Progress, plan?: PlanSteps, compileAhead: 'all' | 'forward' = 'all'): Promise<LoadedModel> {
  const opened = await openModel(provider);
  let tokenizer: TextTokenizer | null;
  let plans: StepPlan[] | null;
  try {
    tokenizer = await modelTokenizer(opened);
    plans = plan ? plan(opened.cfg, tokenizer) : defaultStepPlans();
    // The load's own pipelines first, while Dawn creates nothing else (see model.ts loadPipelines).
    if (plans?.length) for (const p of loadPipelines(opened.cfg, opened.reader, quant)) ctx.compile(p.shader, p.defines);
  } catch (e) {
    await opened.close();
    throw e;
  }
  const t0 = performance.now();
  // The pipelines compile while the weights load; once the weights are on the GPU, what is left of the compile is
  // its own counted phase ("compile shaders"), as it can outlast the load many times (a 3-layer model on
  // SwiftShader: 6 s of weights, then ~35 s of shaders, which the bar otherwise spent showing the last tensor).
  const compile = { done: 0, total: 0, shown: false };
  const showCompile = () => onProgress?.({ loaded: compile.done, total: compile.total, what: COMPILE_PHASE, unit: 'pipelines' });
  const pre = plans?.length
    ? precompileModel(ctx, opened.cfg, quant, plans, (done, total) => {
        Object.assign(compile, { done, total });
        if (compile.shown) showCompile();
      }, compileAhead)
    : null;
  const compiling = !pre ? Promise.resolve(0) : compileAhead === 'all' ? Promise.all([pre.forward, pre.rest]).then(([a, b]) => a + b) : pre.forward;
  let base: BaseModel;
  try {
    base = await loadBaseModel(ctx, opened.cfg, opened.reader, quant, (done, total, what) => onProgress?.({ loaded: done, total, what: `load ${what}` }));
  } catch (e) {
    // A refused load does not wait for the compile (Dawn cannot cancel it), but its failure must not surface later
    // as an unhandled rejection that ends the process.
    compiling.catch(() => {});
    throw e;
  } finally {
    await opened.close();
  }
  // Shown even when all are ready (then at once "N of N"), so every load names the phase the same way.
  compile.shown = plans !== null && plans.length > 0;
  if (compile.shown) showCompile();
  const pipelines = await compiling;
  const c = opened.cfg;
  const info: ModelInfo = {
    name: name ?? opened.name,
    architecture: c.architecture,
    layers: c.L,
    hidden: c.C,
    heads: c.H,
    kvHeads: c.Hkv,
    vocab: c.V,
    intermediate: c.F,
    headDim: c.D,
    tiedEmbeddings: c.tieEmbeddings,
    shape: planModel(c),
    quant,
    baseBytes: base.bytes,
    fingerprint: modelFingerprint(opened.configJson, quant),
    hasChatTemplate: !!tokenizer?.applyChatTemplate,
  };
  return { info, opened, base, tokenizer, precompiled: { pipelines, ms: performance.now() - t0, rest: compileAhead === 'forward' ? (pre?.rest ?? null) : null } };
}

export function requireTokenizer(m: LoadedModel, forWhat = 'text data cannot be tokenized'): TextTokenizer {
  if (!m.tokenizer) throw new Error(`${m.info.name} has no tokenizer (tokenizer.json or a GGUF vocabulary), so ${forWhat}`);
  return m.tokenizer;
}

/**
 * Pairs scored by a run's periodic evaluation at most: 64 keep an eval under a tenth of a run's steps on small sets.
 * A larger split is sampled (its first 64, in the split's own shuffled order); the eval metrics say so
 * (eval_pairs of eval_split_pairs) and the results card words it (ui/lib/results.ts evalSplitNote).
 */
export const MAX_EVAL_PAIRS = 64;

/** The one train/eval split: it depends only on the pairs, the seed and the fraction, so every caller gets the same. */
export function splitPairs(pairs: TokenizedPair[], seed: number, evalFraction: number, batchSize = 1): PairBatcher {
  return new PairBatcher(pairs, { batchSize, seed, evalFraction });
}

export interface PreparedDataset {
  info: DatasetInfo;
  pairs: TokenizedPair[];
  rows: PreferenceRow[];
  opts: DataOptions;
  report: ValidationReport;
}

const ROW_FORMATS: readonly RowFormat[] = ['trl', 'translation', 'alma-r', 'mapping'];

/** DataOptions arrive from the page as plain strings: checked here, where they become the data layer's types. */
export function readOptions(opts: Pick<DataOptions, 'format' | 'mapping'>): { format?: RowFormat; mapping?: ColumnMapping } {
  const format = ROW_FORMATS.find((f) => f === opts.format);
  if (opts.format && !format) throw new Error(`format: unknown row format ${JSON.stringify(opts.format)} (one of ${ROW_FORMATS.join(', ')})`);
  const m = opts.mapping;
  if (!m) return { format };
  for (const k of ['chosen', 'rejected'] as const) if (typeof m[k] !== 'string' || !m[k]) throw new Error(`mapping: the ${k} column is not named`);
  const mapping: ColumnMapping = { chosen: m.chosen, rejected: m.rejected };
  for (const k of ['prompt', 'source', 'langPair', 'langPairColumn', 'srcLangColumn', 'tgtLangColumn'] as const) if (typeof m[k] === 'string' && m[k]) mapping[k] = m[k];
  return { format, mapping };
}

/** Reads a preference file as the data options say (format override, column mapping), with read progress. */
export function readDataset(file: Blob & { name?: string }, opts: Pick<DataOptions, 'format' | 'mapping'>, onProgress?: Progress): Promise<ReadResult> {
  const name = file.name ?? 'dataset';
  return readPreferenceFile(file, {
    name,
    ...readOptions(opts),
    onProgress: (loaded, total) => onProgress?.({ loaded, total: total ?? file.size, what: `read ${name}` }),
  });
}

/** Download and read progress of a Hub dataset, as one callback (bytes of all shards, then rows read). */
export function hubDataOptions(spec: HubDatasetSpec, hub: HubAccess, onProgress?: Progress): HubDatasetOptions & { onRead?: ReadOptions['onProgress'] } {
  const name = formatHfDatasetSpec(spec);
  return {
    token: hub.token || undefined,
    hubUrl: hub.hubUrl || undefined,
    onOverall: (loaded, total) => onProgress?.({ loaded, total: total ?? 0, what: `download ${name}` }),
    onRead: (loaded, total) => onProgress?.({ loaded, total: total ?? 0, what: `read ${name}` }),
  };
}

/**
 * Tokenizes what was read, splits it, and builds the dataset's summary and report. `maxPositions` (the model's
 * max_position_embeddings) sets aside rows the model cannot score faithfully, with a count in the report.
 */
export function prepareDataset(read: ReadResult, tokenizer: TextTokenizer, opts: DataOptions, onProgress?: Progress, maxPositions?: number): PreparedDataset {
  // Counted in rows (the worker posts each call to the page as it happens, though this loop does not yield).
  const tok = tokenizePairs(read.rows, tokenizer, {
    maxLength: opts.maxLength,
    maxPromptLength: opts.maxPromptLength,
    maxPositions,
    onProgress: (loaded, total) => onProgress?.({ loaded, total, what: 'tokenize', unit: 'rows' }),
  });
  const report = withTokenization(read.report, tok);
  const split = splitPairs(tok.pairs, opts.seed, opts.evalFraction);
  const preview = tok.pairs.slice(0, 5).map((p) => {
    const row = read.rows[p.index];
    const text = row.kind === 'text' ? row : { chosen: JSON.stringify(row.chosen), rejected: JSON.stringify(row.rejected) };
    return {
      line: row.line,
      prompt: tokenizer.decode(p.promptIds),
      chosen: text.chosen,
      rejected: text.rejected,
      promptTokens: p.promptIds.length,
      chosenTokens: p.chosenIds.length,
      rejectedTokens: p.rejectedIds.length,
    };
  });
  const info: DatasetInfo = {
    name: report.file,
    container: read.detected.container,
    format: read.detected.format,
    rowsRead: report.rowsRead,
    rowsUsable: tok.pairs.length,
    trainPairs: split.train.length,
    evalPairs: split.eval.length,
    fingerprint: datasetFingerprint(tok.pairs, opts.seed, opts.evalFraction),
    preview,
    report,
    reportText: formatReport(report),
  };
  return { info, pairs: tok.pairs, rows: read.rows, opts, report };
}

/** Marks a stored run's checkpoint stopped (a paused run the user ends), unless it already finished; the saved state. */
export async function markStopped(store: RunStore, runId: string): Promise<RunState> {
  const c = await store.load(runId);
  if (!c) throw new Error(`run ${runId} has no checkpoint`);
  if (c.state.step >= c.state.totalSteps || c.state.status === 'stopped') return c.state;
  const state: RunState = { ...c.state, status: 'stopped', savedAt: Date.now() };
  await store.save(runId, encodeCheckpoint({ state, tensors: c.tensors }), state);
  return state;
}

/** The settings a run continues with: its own, except the step budget (max_steps, epochs) the caller may change. */
export function resumedConfig(saved: RunConfig, asked: Pick<RunConfig, 'maxSteps' | 'epochs'>): RunConfig {
  return { ...saved, maxSteps: asked.maxSteps || saved.maxSteps, epochs: asked.epochs };
}

export interface StartedRun {
  run: TrainingRun;
  tf: Transformer;
  lora: Lora;
  /** The eval split's rows, for the generation check at the end. */
  evalRows: PreferenceRow[];
  release(): void;
}

/** Checks the settings against the loaded model and dataset, builds the LoRA and the run (resumed from `resume` if given). */
export function startRun(
  ctx: GpuContext,
  m: LoadedModel,
  d: PreparedDataset,
  cfg: RunConfig,
  store: RunStore,
  onEvent: (e: RunEvent) => void,
  runId: string,
  resume?: Checkpoint,
  runOptions: RunOptions = {},
): StartedRun {
  const errors = validateRunConfig(cfg);
  if (errors.length) throw new Error(`invalid settings: ${errors.join('; ')}`);
  if (m.info.quant !== cfg.quant) throw new Error(`the model is loaded as ${m.info.quant} but the run asks for ${cfg.quant}: reload the model`);
  // The pairs were cut to the limits the dataset was read with: training them under other limits would
  // silently use the old ones (and a resumed run's dataset fingerprint would not match).
  if (d.opts.maxLength !== cfg.maxLength || d.opts.maxPromptLength !== cfg.maxPromptLength) {
    throw new Error(
      `the dataset was read for max_length ${d.opts.maxLength} / max_prompt_length ${d.opts.maxPromptLength}, but the run uses ${cfg.maxLength} / ${cfg.maxPromptLength}: read the dataset again with the run's limits`,
    );
  }
  const batcher = splitPairs(d.pairs, cfg.seed, d.opts.evalFraction, cfg.batchSize);
  const lora = createLora(ctx, m.opened.cfg, loraSettings(cfg), cfg.seed);
  const tf = new Transformer(ctx, m.base, lora);
  const identity = { runId, modelName: m.info.name, modelFingerprint: m.info.fingerprint, datasetName: d.info.name, datasetFingerprint: d.info.fingerprint };
  let run: TrainingRun;
  try {
    run = new TrainingRun(ctx, tf, lora, batchSource(batcher), batcher.eval.slice(0, MAX_EVAL_PAIRS), cfg, store, onEvent, identity, resume, { ...runOptions, evalSplitPairs: batcher.eval.length });
  } catch (e) {
    tf.release();
    releaseLora(ctx, lora);
    throw e;
  }
  return {
    run,
    tf,
    lora,
    evalRows: batcher.eval.map((p) => d.rows[p.index]),
    release() {
      run.release();
      tf.release();
      releaseLora(ctx, lora);
    },
  };
}
