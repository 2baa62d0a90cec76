// The engine in this thread: a web worker in the studio (workers/engine.worker.ts), the CLI, or the test process.
// It holds the state — the GPU, the loaded model, the dataset, at most one run — and delegates the work to
// session.ts (load, prepare, start), exports.ts (checkpoint → files) and eval/generation.ts.
import type { ReadResult } from '../data/read.ts';
import { GpuContext } from '../gpu/context.ts';
import { GpuError } from '../gpu/errors.ts';
import { translateWithAdapter, withDecoder, type StoredAdapter } from '../generate/with-adapter.ts';
import { decoderCandidates, type BatchCandidates, type CandidateOptions } from '../prefs/candidates.ts';
import type { ParallelRow } from '../prefs/types.ts';
import { generationEval } from '../eval/generation.ts';
import { openModel } from '../model/load.ts';
import { releaseBaseModel } from '../model/model.ts';
import type { Quant } from '../model/projections.ts';
import type { Checkpoint, RunState, RunStore } from '../train/checkpoint.ts';
import type { RunConfig, RunEvent, StepMetrics } from '../train/config.ts';
import { runRecovering, type RunSession } from '../train/recover.ts';
import type { TrainingRun } from '../train/run.ts';
import { listHubParquet, openHubRecords, readHubDataset, type HubDatasetSpec, type HubParquetListing } from '../io/hub-datasets.ts';
import { readParallelRecords, type ParallelOptions, type ParallelRead } from '../prefs/parallel.ts';
import { adapterFiles, recipeFiles, zipFiles, type AdapterDtype } from './exports.ts';
import { ggufFiles, requireRunModel, webExport, type OrtLoader } from './web-export.ts';
import { providerFor, type PathFiles } from './providers.ts';
import { hubDataOptions, loadModel, markStopped, prepareDataset, readDataset, readOptions, requireTokenizer, resumedConfig, splitPairs, startRun, type LoadedModel, type PreparedDataset, type Progress, type StartedRun } from './session.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import type { AdapterFiles, DataOptions, DatasetInfo, ExportProgress, GpuInfo, HubAccess, ModelInfo, ModelSource, RunRecord, StudioEngine, WebExport } from './types.ts';

export class LocalEngine implements StudioEngine {
  private ctx: GpuContext | null = null;
  private model: LoadedModel | null = null;
  private data: PreparedDataset | null = null;
  private run: TrainingRun | null = null;
  /**
   * Pause or Stop asked for during train(): also kept for the run a device-loss recovery builds next, since
   * between devices there is no run object to take it (a request then would otherwise be lost).
   */
  private requested: 'pause' | 'stop' | null = null;
  /** A finished run's end-of-run generation check, while it decodes (the run has said 'finished' already). */
  private finishing: Promise<void> | null = null;
  /** Where the model came from, to load it again on a new device after a device loss. */
  private modelSource: { source: ModelSource; quant: Quant } | null = null;
  /** Automatic resumes of one run after lost GPU devices before the error reaches the user (the CLI: 1). */
  deviceLossResumes = 2;
  /** A resume that changes the step budget stretches the original schedule over it (CLI --stretch-schedule). */
  stretchSchedule = false;
  /** onnxruntime-web for the web export's check (the worker's loads it with its wasm files; tests give Node's). */
  ort: OrtLoader | null = null;

  constructor(
    private readonly store: RunStore,
    private readonly baseUrl = '/',
    /** How `{ kind: 'path' }` sources open (Node): the CLI gives nodeFiles, so its bundle needs no dynamic import. */
    private readonly pathFiles?: PathFiles,
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
      return { available: true, adapter: c.adapterName, f16: c.f16, subgroups: c.subgroups, maxStorageBufferBindingSize: c.maxStorageBufferBindingSize, maxBufferSize: c.maxBufferSize, caps: c };
    } catch (e) {
      return { available: false, adapter: '', f16: false, subgroups: false, maxStorageBufferBindingSize: 0, maxBufferSize: 0, message: e instanceof GpuError ? e.message : String(e) };
    }
  }

  async loadModel(source: ModelSource, quant: Quant, onProgress?: Progress): Promise<ModelInfo> {
    const ctx = await this.gpu();
    if (this.run) throw new Error('a run is in progress: pause or stop it before loading another model');
    this.modelSource = { source, quant };
    const provider = await providerFor(source, (loaded, total, what) => onProgress?.({ loaded, total, what: `download ${what}` }), this.baseUrl, this.pathFiles);
    if (this.model) {
      releaseBaseModel(ctx, this.model.base);
      this.model = null;
    }
    // A path keeps the path (or the Hub id it was resolved from) as its name: it is what PEFT's
    // base_model_name_or_path and the TRL recipe need.
    const name = source.kind === 'demo' ? 'Tiny demo model' : source.kind === 'path' ? (source.name ?? source.path) : undefined;
    this.model = await loadModel(ctx, provider, quant, name, onProgress);
    return this.model.info;
  }

  async loadDataset(file: Blob & { name?: string }, opts: DataOptions, onProgress?: Progress): Promise<DatasetInfo> {
    if (!this.model) throw new Error('load a model first: the dataset is tokenized with its tokenizer');
    return this.useDataset(await readDataset(file, opts, onProgress), opts, onProgress);
  }

  /** As loadDataset, for rows already read elsewhere (a Hub dataset's shards, read by the CLI). */
  useDataset(read: ReadResult, opts: DataOptions, onProgress?: Progress): DatasetInfo {
    if (!this.model) throw new Error('load a model first: the dataset is tokenized with its tokenizer');
    this.data = prepareDataset(read, requireTokenizer(this.model), opts, onProgress, this.model.opened.cfg.maxPositions);
    return this.data.info;
  }

  async listHubDataset(repo: string, hub: HubAccess): Promise<HubParquetListing> {
    return listHubParquet(repo, { token: hub.token, hubUrl: hub.hubUrl });
  }

  /** A Hub split's shards streamed into the Cache API (or found there) and read here, in the worker. */
  async loadHubDataset(spec: HubDatasetSpec, hub: HubAccess, opts: DataOptions, onProgress?: Progress): Promise<DatasetInfo> {
    if (!this.model) throw new Error('load a model first: the dataset is tokenized with its tokenizer');
    const o = hubDataOptions(spec, hub, onProgress);
    const read = await readHubDataset(spec, { ...o, read: { ...readOptions(opts), onProgress: o.onRead } });
    const info = this.useDataset(read, opts, onProgress);
    info.hub = { commit: read.hub.commit, partial: read.hub.partial };
    return info;
  }

  /** Parallel text from a Hub split for the preference builder (no model needed to read it). */
  async readHubParallel(spec: HubDatasetSpec, hub: HubAccess, opts: ParallelOptions, onProgress?: Progress): Promise<ParallelRead> {
    const { records } = await openHubRecords(spec, hubDataOptions(spec, hub, onProgress));
    return readParallelRecords(records, opts);
  }

  /** The loaded dataset (its rows, pairs and report), for front doors that print or filter it. */
  get dataset(): PreparedDataset | null {
    return this.data;
  }

  async train(config: RunConfig, onEvent: (e: RunEvent) => void, resumeRunId?: string): Promise<RunRecord> {
    if (this.run) throw new Error('a run is already in progress');
    const m = this.model;
    const d = this.data;
    if (!m) throw new Error('no model loaded');
    if (!d) throw new Error('no dataset loaded');
    const resume = resumeRunId ? await this.store.load(resumeRunId) : null;
    if (resumeRunId && !resume) throw new Error(`run ${resumeRunId} has no checkpoint`);
    const cfg = resume ? resumedConfig(resume.state.config, config) : config;
    const runId = resume?.state.runId ?? `run-${Date.now().toString(36)}`;
    this.requested = null;
    const start = async (ck: Checkpoint | null): Promise<StartedRun & RunSession> => {
      const ctx = await this.gpu();
      const s = startRun(ctx, this.model!, d, cfg, this.store, onEvent, runId, ck ?? undefined, { stretchSchedule: this.stretchSchedule });
      this.run = s.run;
      // Asked for while the run was recovering: it stops (or pauses) before its first step, saved at the checkpoint.
      if (this.requested === 'stop') s.run.stop();
      else if (this.requested === 'pause') s.run.pause();
      return { ...s, ctx };
    };
    try {
      // A lost device (even mid-step) is not the end of the run: a 'recovering' notice, the model loaded again
      // on a new device, the run resumed from its last checkpoint (train/recover.ts; bit-identical, tests/faults).
      const r = await runRecovering(await start(resume), {
        store: this.store,
        retries: this.modelSource ? this.deviceLossResumes : 0,
        describeCheckpoint: this.store.where?.bind(this.store),
        notice: (message) => onEvent({ type: 'status', runId, status: 'recovering', message }),
        open: async (ck) => {
          this.run = null; // the lost run is over; loadModel refuses while one is set
          await this.loadModel(this.modelSource!.source, this.modelSource!.quant);
          return start(ck);
        },
      });
      try {
        if (r.status === 'finished') {
          this.finishing = this.generationEval(r.session, onEvent);
          try {
            await this.finishing;
          } finally {
            this.finishing = null;
          }
        }
        return toRecord({ ...r.session.run.state }, r.status);
      } finally {
        r.session.release();
      }
    } finally {
      this.run = null;
    }
  }

  /** The end-of-run generation check (eval/generation.ts), kept with the run's last eval and checkpointed. */
  private async generationEval(s: StartedRun, onEvent: (e: RunEvent) => void): Promise<void> {
    const m = this.model!;
    if (!m.tokenizer) return;
    s.tf.release(); // the training workspace is not needed any more; decoding allocates its own
    const result = await generationEval(await this.gpu(), m.base, s.lora, m.tokenizer, s.evalRows);
    if (!result) return;
    const { metrics, samples } = result;
    const st = s.run.state;
    const last = st.evals.at(-1);
    if (last && last.step === st.step) Object.assign(last, { metrics: { ...last.metrics, ...metrics }, samples });
    else st.evals.push({ step: st.step, metrics, samples });
    onEvent({ type: 'eval', runId: st.runId, step: st.step, metrics, samples });
    await s.run.checkpoint();
  }

  async pause(): Promise<void> {
    if (this.requested !== 'stop') this.requested = 'pause';
    this.run?.pause();
  }

  async stop(): Promise<void> {
    this.requested = 'stop';
    this.run?.stop();
  }

  async markStopped(runId: string): Promise<RunRecord> {
    if (this.run?.state.runId === runId) throw new Error(`run ${runId} is training: stop it, and it stops after the current step`);
    return toRecord(await markStopped(this.store, runId));
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
  async exportAdapter(runId: string, dtype: AdapterDtype): Promise<AdapterFiles> {
    const c = await this.store.load(runId);
    if (!c) throw new Error(`run ${runId} has no checkpoint to export`);
    return adapterFiles(c, dtype);
  }

  async exportGguf(runId: string, dtype: AdapterDtype): Promise<AdapterFiles> {
    const c = await this.store.load(runId);
    if (!c) throw new Error(`run ${runId} has no checkpoint to export`);
    return ggufFiles(c, requireRunModel(c, this.model, 'the GGUF export'), dtype);
  }

  async exportWeb(runId: string, onProgress?: ExportProgress): Promise<WebExport> {
    const c = await this.store.load(runId);
    if (!c) throw new Error(`run ${runId} has no checkpoint to export`);
    const m = requireRunModel(c, this.model, 'the web export');
    // Right after a run says 'finished' its generation check still decodes: wait for it rather than refuse.
    // (train() registered on it first, so by the time this continues the run has been released.)
    if (this.finishing) await this.finishing.catch(() => {});
    if (this.run) throw new Error('a run is in progress: pause or stop it before the web export (its check decodes on the GPU)');
    if (!this.ort) throw new Error('the web export check needs onnxruntime-web, which this engine was not given');
    if (!this.modelSource) throw new Error('the web export needs the files the model was loaded from');
    // The weights are read again from where they came (Hub models from the cache, dropped files from their File).
    const opened = await openModel(await providerFor(this.modelSource.source, undefined, this.baseUrl, this.pathFiles));
    try {
      return await webExport(await this.gpu(), m, opened, c, await this.ort(), onProgress);
    } finally {
      await opened.close();
    }
  }

  /** The TRL recipe's files, unzipped (the CLI writes them into a folder); needs the run's dataset loaded. */
  async recipeFiles(runId: string): Promise<AdapterFiles & { state: RunState }> {
    const c = await this.store.load(runId);
    if (!c) throw new Error(`run ${runId} has no checkpoint`);
    const s = c.state;
    const d = this.data;
    if (!d || d.info.fingerprint !== s.datasetFingerprint) {
      throw new Error(`load the run's dataset (${s.datasetName}) first: the recipe carries the same train/eval split as text`);
    }
    const split = splitPairs(d.pairs, s.config.seed, d.opts.evalFraction);
    return { ...recipeFiles(s, split.train.map((p) => d.rows[p.index]), split.eval.map((p) => d.rows[p.index])), state: s };
  }

  async exportRecipe(runId: string): Promise<AdapterFiles> {
    const r = await this.recipeFiles(runId);
    return zipFiles(`${r.state.config.name || runId}-trl-recipe.zip`, r, 'trl-recipe/');
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
  private async decoding(adapterRunId: string | null): Promise<{ ctx: GpuContext; m: LoadedModel; tokenizer: TextTokenizer; adapter: StoredAdapter | null }> {
    const m = this.model;
    if (!m) throw new Error('no model loaded');
    const tokenizer = requireTokenizer(m, 'text cannot be translated');
    if (this.run) throw new Error('a run is in progress: pause or stop it before translating');
    const ctx = await this.gpu();
    let adapter: StoredAdapter | null = null;
    if (adapterRunId) {
      const c = await this.store.load(adapterRunId);
      if (!c) throw new Error(`run ${adapterRunId} has no checkpoint`);
      if (c.state.modelName !== m.info.name) throw new Error(`run ${adapterRunId} was trained on ${c.state.modelName}, but ${m.info.name} is loaded`);
      adapter = { ...c.state.config, tensors: c.tensors };
    }
    return { ctx, m, tokenizer, adapter };
  }

  /**
   * TEST-ONLY (tests/faults/engine.test.ts, tests/e2e/faults.test.ts): destroys this engine's GPU device at the
   * `submissions`-th queue submission from now, i.e. inside the next step, as a driver reset would. Not part of
   * StudioEngine, so the worker protocol cannot reach it; the studio's worker exposes it only when the page was
   * opened with `?test-faults` (workers/engine.worker.ts).
   */
  loseDeviceWithin(submissions: number): void {
    const ctx = this.ctx;
    if (!ctx) throw new Error('no GPU device to lose');
    const q = ctx.device.queue;
    const submit = q.submit.bind(q);
    let n = 0;
    q.submit = (cbs: Iterable<GPUCommandBuffer>) => {
      if (++n === submissions) ctx.device.destroy();
      return submit(cbs);
    };
  }

  dispose(): void {
    if (this.ctx && this.model) releaseBaseModel(this.ctx, this.model.base);
    this.ctx?.destroy();
    this.ctx = null;
    this.model = null;
  }
}

/** The translations of the run's last evaluation that kept them (older checkpoints have none; a damaged entry is left out). */
function evalSamples(s: RunState): RunRecord['evalSamples'] {
  const samples = s.evals.findLast((e) => Array.isArray(e.samples))?.samples;
  return samples?.filter((x) => x && ['prompt', 'reference', 'base', 'adapter'].every((k) => typeof x[k as keyof typeof x] === 'string'));
}

function toRecord(s: RunState, status?: RunRecord['status']): RunRecord {
  return {
    id: s.runId,
    name: s.config.name,
    status: status ?? s.status ?? (s.step >= s.totalSteps ? 'finished' : 'paused'),
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
    evalSamples: evalSamples(s),
  };
}

