// The engine in this thread: a web worker in the studio (workers/engine.worker.ts), or the test process.
// It owns the GPU, the loaded model, the dataset and at most one run.
import { formatReport, PairBatcher, readPreferenceFile, tokenizePairs, withTokenization, type TokenizedPair } from '../data/index.ts';
import { GpuContext } from '../gpu/context.ts';
import { GpuError } from '../gpu/errors.ts';
import { exportPeftAdapter } from '../io/peft.ts';
import { zipStore } from '../io/zip.ts';
import { translateWithAdapter, withDecoder, type StoredAdapter } from '../generate/engine.ts';
import { decoderCandidates, type BatchCandidates, type CandidateOptions } from '../prefs/candidates.ts';
import type { ParallelRow } from '../prefs/types.ts';
import { Decoder } from '../generate/decoder.ts';
import { completePrompts } from '../generate/translate.ts';
import { scoreTranslations } from '../eval/index.ts';
import { buildRecipe } from '../train/recipe.ts';
import type { PreferenceRow } from '../data/types.ts';
import { loadTokenizer } from '../io/tokenizer.ts';
import { ggufTokenizerFiles } from '../io/gguf-tokenizer.ts';
import type { Projection } from '../model/config.ts';
import { openModel, type OpenedModel } from '../model/load.ts';
import { createLora, releaseLora, type Lora } from '../model/lora.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel } from '../model/model.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import { Transformer } from '../model/transformer.ts';
import { batchSource, datasetFingerprint } from '../train/batches.ts';
import type { RunState, RunStore } from '../train/checkpoint.ts';
import { validateRunConfig } from '../train/presets.ts';
import { TrainingRun } from '../train/run.ts';
import { Fingerprint } from '../util/hash.ts';
import { providerFor } from './providers.ts';
import type { AdapterFiles, DataOptions, DatasetInfo, GpuInfo, ModelInfo, ModelSource, Quant, RunConfig, RunEvent, RunRecord, StepMetrics, StudioEngine } from './types.ts';

type Progress = (p: { loaded: number; total: number; what: string }) => void;

interface LoadedModelState {
  info: ModelInfo;
  opened: OpenedModel;
  base: BaseModel;
  tokenizer: TextTokenizer | null;
}

interface DatasetState {
  info: DatasetInfo;
  pairs: TokenizedPair[];
  rows: PreferenceRow[];
  opts: DataOptions;
}

export class LocalEngine implements StudioEngine {
  private ctx: GpuContext | null = null;
  private model: LoadedModelState | null = null;
  private data: DatasetState | null = null;
  private run: TrainingRun | null = null;

  constructor(
    private readonly store: RunStore,
    private readonly baseUrl = '/',
  ) {}

  private async gpu(): Promise<GpuContext> {
    if (this.ctx?.lost) {
      // A lost device cannot be revived: drop everything that lived on it.
      this.model = null;
      this.ctx = null;
    }
    this.ctx ??= await GpuContext.create();
    return this.ctx;
  }

  async gpuInfo(): Promise<GpuInfo> {
    try {
      const c = (await this.gpu()).caps;
      return { available: true, adapter: c.adapterName, f16: c.f16, subgroups: c.subgroups, maxStorageBufferBindingSize: c.maxStorageBufferBindingSize, maxBufferSize: c.maxBufferSize };
    } catch (e) {
      return { available: false, adapter: '', f16: false, subgroups: false, maxStorageBufferBindingSize: 0, maxBufferSize: 0, message: e instanceof GpuError ? e.message : String(e) };
    }
  }

  async loadModel(source: ModelSource, quant: Quant, onProgress?: Progress): Promise<ModelInfo> {
    const ctx = await this.gpu();
    if (this.run) throw new Error('a run is in progress: pause or stop it before loading another model');
    const provider = await providerFor(source, (loaded, total, what) => onProgress?.({ loaded, total, what: `download ${what}` }), this.baseUrl);
    const opened = await openModel(provider);
    if (this.model) {
      releaseBaseModel(ctx, this.model.base);
      this.model = null;
    }
    const base = await loadBaseModel(ctx, opened.cfg, opened.reader, quant, (done, total, name) => onProgress?.({ loaded: done, total, what: `load ${name}` })).finally(() => opened.close());
    let tokenizer: TextTokenizer | null = null;
    if (opened.tokenizerJson) tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig ?? undefined });
    else if (opened.ggufMetadata) tokenizer = await loadTokenizer(ggufTokenizerFiles(opened.ggufMetadata as never, opened.reader.source));
    const c = opened.cfg;
    const info: ModelInfo = {
      name: source.kind === 'demo' ? 'Tiny demo model' : opened.name,
      architecture: c.architecture,
      layers: c.L,
      hidden: c.C,
      heads: c.H,
      kvHeads: c.Hkv,
      vocab: c.V,
      quant,
      baseBytes: base.bytes,
      fingerprint: new Fingerprint().string(JSON.stringify(opened.configJson)).string(quant).hex(),
      hasChatTemplate: !!tokenizer?.applyChatTemplate,
    };
    this.model = { info, opened, base, tokenizer };
    return info;
  }

  async loadDataset(file: Blob & { name?: string }, opts: DataOptions, onProgress?: Progress): Promise<DatasetInfo> {
    if (!this.model) throw new Error('load a model first: the dataset is tokenized with its tokenizer');
    const tokenizer = this.model.tokenizer;
    if (!tokenizer) throw new Error(`${this.model.info.name} has no tokenizer, so text data cannot be tokenized`);
    const name = file.name ?? 'dataset';
    const read = await readPreferenceFile(file, {
      name,
      format: opts.format as never,
      mapping: opts.mapping as never,
      onProgress: (loaded, total) => onProgress?.({ loaded, total: total ?? file.size, what: `read ${name}` }),
    });
    const tok = tokenizePairs(read.rows, tokenizer, { maxLength: opts.maxLength, maxPromptLength: opts.maxPromptLength });
    const report = withTokenization(read.report, tok);
    const split = new PairBatcher(tok.pairs, { batchSize: 1, seed: opts.seed, evalFraction: opts.evalFraction });
    const preview = tok.pairs.slice(0, 5).map((p) => {
      const row = read.rows[p.index];
      const text = row.kind === 'text' ? row : { prompt: JSON.stringify(row.prompt), chosen: JSON.stringify(row.chosen), rejected: JSON.stringify(row.rejected) };
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
      name,
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
    this.data = { info, pairs: tok.pairs, rows: read.rows, opts };
    return info;
  }

  async train(config: RunConfig, onEvent: (e: RunEvent) => void, resumeRunId?: string): Promise<RunRecord> {
    const errors = validateRunConfig(config);
    if (errors.length) throw new Error(`invalid settings: ${errors.join('; ')}`);
    if (this.run) throw new Error('a run is already in progress');
    const m = this.model;
    const d = this.data;
    if (!m) throw new Error('no model loaded');
    if (!d) throw new Error('no dataset loaded');
    if (m.info.quant !== config.quant) throw new Error(`the model is loaded as ${m.info.quant} but the run asks for ${config.quant}: reload the model`);
    const ctx = await this.gpu();
    const resume = resumeRunId ? await this.store.load(resumeRunId) : null;
    if (resumeRunId && !resume) throw new Error(`run ${resumeRunId} has no checkpoint`);
    const cfg = resume ? { ...resume.state.config, maxSteps: config.maxSteps || resume.state.config.maxSteps, epochs: config.epochs } : config;
    // The pairs were cut to the limits given to loadDataset: training them under other limits would
    // silently use the old ones (and a resumed run's dataset fingerprint would not match).
    if (d.opts.maxLength !== cfg.maxLength || d.opts.maxPromptLength !== cfg.maxPromptLength) {
      throw new Error(
        `the dataset was read for max_length ${d.opts.maxLength} / max_prompt_length ${d.opts.maxPromptLength}, but the run uses ${cfg.maxLength} / ${cfg.maxPromptLength}: read the dataset again with the run's limits`,
      );
    }
    const batcher = new PairBatcher(d.pairs, { batchSize: cfg.batchSize, seed: cfg.seed, evalFraction: d.opts.evalFraction });
    const lora = createLora(ctx, m.opened.cfg, { r: cfg.r, alpha: cfg.alpha, dropout: cfg.dropout, targets: cfg.targets as Projection[] | 'all-linear', useRslora: cfg.useRslora }, cfg.seed);
    const tf = new Transformer(ctx, m.base, lora);
    const runId = resume?.state.runId ?? `run-${Date.now().toString(36)}`;
    const run = new TrainingRun(ctx, tf, lora, batchSource(batcher), batcher.eval.slice(0, 64), cfg, this.store, onEvent, {
      runId,
      modelName: m.info.name,
      modelFingerprint: m.info.fingerprint,
      datasetName: d.info.name,
      datasetFingerprint: d.info.fingerprint,
    }, resume ?? undefined);
    this.run = run;
    try {
      const status = await run.run();
      if (status === 'finished') await this.generationEval(run, tf, lora, batcher.eval, onEvent);
      return toRecord({ ...run.state }, status);
    } finally {
      this.run = null;
      run.release();
      tf.release();
      releaseLora(ctx, lora);
    }
  }

  /**
   * The small fixed evaluation at the end of a run: up to 8 eval-split prompts decoded greedily with the base
   * and with the adapter, scored against the chosen answers (chrF2, chrF++, BLEU), kept with the run.
   */
  private async generationEval(run: TrainingRun, tf: Transformer, lora: Lora, evalPairs: TokenizedPair[], onEvent: (e: RunEvent) => void): Promise<void> {
    const m = this.model!;
    const d = this.data!;
    const rows = evalPairs.map((p) => d.rows[p.index]).filter((r): r is PreferenceRow & { kind: 'text' } => r.kind === 'text').slice(0, 8);
    if (!rows.length || !m.tokenizer) return;
    const ctx = await this.gpu();
    tf.release(); // the training workspace is not needed any more; decoding allocates its own
    const dec = new Decoder(ctx, m.base, lora);
    try {
      const prompts = rows.map((r) => r.prompt);
      const refs = rows.map((r) => r.chosen.trim());
      // Translation rows answer on one line (ALMA); other rows stop at EOS.
      const opts = { maxNewTokens: 64, stopAtNewline: rows.every((r) => !!r.langPair) };
      dec.useLora = false;
      const base = scoreTranslations(await completePrompts(dec, m.tokenizer, prompts, opts), refs);
      dec.useLora = true;
      const tuned = scoreTranslations(await completePrompts(dec, m.tokenizer, prompts, opts), refs);
      const metrics = {
        'gen/chrf2_base': base.chrf2.score,
        'gen/chrf2_adapter': tuned.chrf2.score,
        'gen/chrfpp_base': base.chrfpp.score,
        'gen/chrfpp_adapter': tuned.chrfpp.score,
        'gen/bleu_base': base.bleu.score,
        'gen/bleu_adapter': tuned.bleu.score,
        'gen/examples': rows.length,
      };
      const last = run.state.evals.at(-1);
      if (last && last.step === run.state.step) Object.assign(last.metrics, metrics);
      else run.state.evals.push({ step: run.state.step, metrics });
      onEvent({ type: 'eval', runId: run.state.runId, step: run.state.step, metrics });
      await run.checkpoint();
    } finally {
      dec.release();
    }
  }

  async pause(): Promise<void> {
    this.run?.pause();
  }

  async stop(): Promise<void> {
    this.run?.stop();
  }

  async listRuns(): Promise<RunRecord[]> {
    return (await this.store.list()).map((s) => toRecord(s));
  }

  async runHistory(runId: string): Promise<StepMetrics[]> {
    const c = await this.store.load(runId);
    return c?.state.history ?? [];
  }

  async deleteRun(runId: string): Promise<void> {
    await this.store.delete(runId);
  }

  /** Straight from the checkpoint: no GPU needed, so any finished or paused run can be exported. */
  async exportAdapter(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles> {
    const c = await this.store.load(runId);
    if (!c) throw new Error(`run ${runId} has no checkpoint to export`);
    const cfg = c.state.config;
    const pairs = [];
    for (const [name, A] of c.tensors) {
      const m = /^base_model\.model\.model\.layers\.(\d+)\.\w+\.(\w+)\.lora_A\.weight$/.exec(name);
      if (!m) continue;
      const B = c.tensors.get(name.replace('lora_A', 'lora_B'))!;
      pairs.push({ layer: Number(m[1]), module: m[2] as Projection, inFeatures: A.length / cfg.r, outFeatures: B.length / cfg.r, A, B });
    }
    pairs.sort((a, b) => a.layer - b.layer || order(a.module) - order(b.module));
    const targets = [...new Set(pairs.map((p) => p.module))].sort((a, b) => order(a) - order(b));
    const exported = exportPeftAdapter(
      { settings: { r: cfg.r, alpha: cfg.alpha, dropout: cfg.dropout, targetModules: targets, useRslora: cfg.useRslora, baseModel: c.state.modelName }, pairs },
      { dtype: dtype === 'f16' ? 'F16' : 'F32' },
    );
    return { files: [{ name: 'adapter_config.json', bytes: new TextEncoder().encode(exported.config) }, { name: 'adapter_model.safetensors', bytes: exported.weights }] };
  }

  async exportRecipe(runId: string): Promise<AdapterFiles> {
    const c = await this.store.load(runId);
    if (!c) throw new Error(`run ${runId} has no checkpoint`);
    const s = c.state;
    const d = this.data;
    if (!d || d.info.fingerprint !== s.datasetFingerprint) {
      throw new Error(`load the run's dataset (${s.datasetName}) first: the recipe carries the same train/eval split as text`);
    }
    // The same split the run trained on: the batcher's split depends only on the pairs, the seed and the fraction.
    const split = new PairBatcher(d.pairs, { batchSize: 1, seed: s.config.seed, evalFraction: d.opts.evalFraction });
    const files = buildRecipe(s.config, s.modelName, split.train.map((p) => d.rows[p.index]), split.eval.map((p) => d.rows[p.index]));
    return { files: [{ name: `${s.config.name || runId}-trl-recipe.zip`, bytes: zipStore(files.map((f) => ({ name: `trl-recipe/${f.name}`, data: f.text }))) }] };
  }

  async translate(sources: string[], opts: { srcLang: string; tgtLang: string; adapterRunId: string | null; maxNewTokens: number }): Promise<string[]> {
    const { ctx, m, tokenizer, adapter } = await this.decoding(opts.adapterRunId);
    return translateWithAdapter(ctx, m.base, tokenizer, adapter, sources, { srcLang: opts.srcLang, tgtLang: opts.tgtLang, maxNewTokens: opts.maxNewTokens });
  }

  async prefsCandidates(rows: ParallelRow[], batchIndex: number, opts: CandidateOptions & { adapterRunId: string | null }): Promise<BatchCandidates> {
    const { ctx, m, tokenizer, adapter } = await this.decoding(opts.adapterRunId);
    return withDecoder(ctx, m.base, adapter, (dec, hasLora) => decoderCandidates(dec, tokenizer, { ...opts, useLora: hasLora })(rows, batchIndex));
  }

  /** What decoding needs: the GPU, the model and its tokenizer, and the adapter of a run's checkpoint (or none). */
  private async decoding(adapterRunId: string | null): Promise<{ ctx: GpuContext; m: LoadedModelState; tokenizer: TextTokenizer; adapter: StoredAdapter | null }> {
    const m = this.model;
    if (!m) throw new Error('no model loaded');
    if (!m.tokenizer) throw new Error(`${m.info.name} has no tokenizer, so text cannot be translated`);
    if (this.run) throw new Error('a run is in progress: pause or stop it before translating');
    const ctx = await this.gpu();
    let adapter: StoredAdapter | null = null;
    if (adapterRunId) {
      const c = await this.store.load(adapterRunId);
      if (!c) throw new Error(`run ${adapterRunId} has no checkpoint`);
      if (c.state.modelName !== m.info.name) throw new Error(`run ${adapterRunId} was trained on ${c.state.modelName}, but ${m.info.name} is loaded`);
      const cfg = c.state.config;
      adapter = { r: cfg.r, alpha: cfg.alpha, targets: cfg.targets, useRslora: cfg.useRslora, tensors: c.tensors };
    }
    return { ctx, m, tokenizer: m.tokenizer, adapter };
  }

  dispose(): void {
    if (this.ctx && this.model) releaseBaseModel(this.ctx, this.model.base);
    this.ctx?.destroy();
    this.ctx = null;
    this.model = null;
  }
}

const ORDER: Projection[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const order = (p: Projection) => ORDER.indexOf(p);

function toRecord(s: RunState, status?: RunRecord['status']): RunRecord {
  return {
    id: s.runId,
    name: s.config.name,
    status: status ?? (s.step >= s.totalSteps ? 'finished' : 'paused'),
    step: s.step,
    totalSteps: s.totalSteps,
    createdAt: s.createdAt ?? s.savedAt,
    updatedAt: s.savedAt,
    config: s.config,
    modelName: s.modelName,
    modelFingerprint: s.modelFingerprint,
    datasetName: s.datasetName,
    datasetFingerprint: s.datasetFingerprint,
    lastMetrics: s.history.at(-1),
    evalScores: s.evals.at(-1)?.metrics,
  };
}

