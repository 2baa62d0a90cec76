// A StudioEngine with synthetic data, for UI development and tests without a GPU. It behaves like the
// real one where the UI can tell: progress callbacks, run events in order, pause/stop ending train(),
// runs that persist (in memory) and resume from their step.
import type {
  AdapterFiles,
  DataOptions,
  DatasetInfo,
  DatasetPreviewRow,
  ExportProgress,
  GpuInfo,
  LoadProgress,
  HubAccess,
  HubDatasetSpec,
  HubParquetListing,
  ModelInfo,
  ModelSource,
  Quant,
  RunConfig,
  RunEvent,
  RunRecord,
  StepMetrics,
  StudioEngine,
  ParallelRead,
  WebExport,
} from '../../src/engine/types.ts';
import type { BatchCandidates, CandidateOptions } from '../../src/prefs/candidates.ts';
import type { ParallelRow } from '../../src/prefs/types.ts';
import { Rng } from '../../src/util/rng.ts';
import { COMPILE_PHASE } from '../../src/engine/types.ts';

export interface FakeEngineOptions {
  /** Wall time per optimizer step. */
  stepMs?: number;
  /** Wall time of a model load (reported in ~10 progress messages). */
  loadMs?: number;
  /** Wall time of a dataset's tokenization (reported in rows, in ~5 progress messages; 0: at once). */
  tokenizeMs?: number;
  /** false: translate() throws "not implemented", as an engine without decoding would. */
  translate?: boolean;
  gpu?: Partial<GpuInfo>;
  /** Keeps the runs here across reloads of the page (as the real engine's IndexedDB does); absent: in memory only. */
  storage?: Pick<Storage, 'getItem' | 'setItem'>;
  /** Milliseconds a resume takes before its first step is under way (the real engine reads the checkpoint). */
  resumeMs?: number;
}

const STORAGE_KEY = 'fake-engine:runs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tokens = (s: string) => s.split(/\s+/).filter(Boolean).length + 1;

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export class FakeEngine implements StudioEngine {
  private readonly opts: Required<Omit<FakeEngineOptions, 'gpu' | 'storage'>> & Pick<FakeEngineOptions, 'storage'> & { gpu: Partial<GpuInfo> };
  private model: ModelInfo | null = null;
  private dataset: DatasetInfo | null = null;
  private readonly runs = new Map<string, RunRecord>();
  private readonly history = new Map<string, StepMetrics[]>();
  private control: 'run' | 'pause' | 'stop' = 'run';
  private training = false;
  private nextRun = 1;

  constructor(opts: FakeEngineOptions = {}) {
    this.opts = { stepMs: 60, loadMs: 600, tokenizeMs: 0, resumeMs: 0, gpu: {}, ...opts, translate: opts.translate ?? true };
    const saved = opts.storage?.getItem(STORAGE_KEY);
    if (saved) {
      const { runs, history } = JSON.parse(saved) as { runs: RunRecord[]; history: [string, StepMetrics[]][] };
      for (const r of runs) this.runs.set(r.id, r);
      for (const [id, h] of history) this.history.set(id, h);
      this.nextRun = runs.length + 1;
    }
  }

  /** Writes the runs to opts.storage, as the real engine checkpoints: a reload finds them as they were last saved. */
  private save(): void {
    this.opts.storage?.setItem(STORAGE_KEY, JSON.stringify({ runs: [...this.runs.values()], history: [...this.history] }));
  }

  async gpuInfo(): Promise<GpuInfo> {
    return { available: true, adapter: 'Fake adapter (synthetic engine)', f16: true, subgroups: false, maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 31, ...this.opts.gpu };
  }

  async loadModel(source: ModelSource, quant: Quant, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    if (source.kind === 'hub' && !/^[\w.-]+\/[\w.-]+$/.test(source.id)) throw new Error(`"${source.id}" is not a Hub model id (owner/name)`);
    const total = 50_000_000;
    for (let i = 1; i <= 10; i++) {
      await sleep(this.opts.loadMs / 10);
      // The demo's second half as the real engine reports it: tensors put on the GPU, one by one.
      if (source.kind === 'demo' && i > 5) onProgress?.({ loaded: i - 5, total: 5, what: `load model.layers.${i - 6}.mlp.down_proj.weight` });
      else onProgress?.({ loaded: (total * i) / 10, total, what: source.kind === 'hub' ? `Downloading ${source.id}` : 'Reading weights' });
    }
    // Then the shaders still compiling, counted in pipelines, as engine/session.ts loadModel reports them.
    for (let i = 0; i <= 4; i++) {
      onProgress?.({ loaded: i * 7, total: 28, what: COMPILE_PHASE, unit: 'pipelines' });
      if (i < 4) await sleep(this.opts.loadMs / 10);
    }
    const name = source.kind === 'demo' ? 'tiny-demo' : source.kind === 'hub' ? source.id : source.kind === 'gguf' ? source.file.name : source.kind === 'files' ? 'local-model' : source.path;
    const demo = source.kind === 'demo';
    this.model = {
      name,
      architecture: 'LlamaForCausalLM',
      layers: demo ? 2 : 24,
      hidden: demo ? 32 : 896,
      heads: demo ? 4 : 14,
      kvHeads: 2,
      vocab: demo ? 32000 : 151936,
      intermediate: demo ? 64 : 4864,
      headDim: demo ? 8 : 64,
      tiedEmbeddings: true,
      shape: { L: demo ? 2 : 24, C: demo ? 32 : 896, F: demo ? 64 : 4864, H: demo ? 4 : 14, Hkv: 2, D: demo ? 8 : 64, V: demo ? 32000 : 151936, tieEmbeddings: true, qkvBias: !demo },
      quant,
      baseBytes: demo ? 2_100_000 : 350_000_000,
      fingerprint: hash(name + quant),
      hasChatTemplate: !demo,
    };
    return this.model;
  }

  async loadDataset(file: Blob & { name?: string }, opts: DataOptions, onProgress?: (p: LoadProgress) => void): Promise<DatasetInfo> {
    // Node's structured clone turns a File into a nameless Blob (browsers keep File): read those as JSONL.
    const name = file.name ?? 'dataset.jsonl';
    if (!/\.(jsonl|json)$/i.test(name)) throw new Error(`${name}: the fake engine reads JSONL/JSON only`);
    onProgress?.({ loaded: 0, total: file.size, what: 'Reading' });
    const text = await file.text();
    onProgress?.({ loaded: file.size, total: file.size, what: 'Reading' });
    const lines = name.endsWith('.json') ? (JSON.parse(text) as unknown[]).map((o) => JSON.stringify(o)) : text.split(/\r?\n/);
    const rows: DatasetPreviewRow[] = [];
    const issues: { row: number; line: number; reason: string; message: string; field?: string }[] = [];
    const counts: Record<string, number> = {};
    const langs: Record<string, number> = {};
    let read = 0;
    const m = opts.mapping;
    lines.forEach((l, i) => {
      if (!l.trim()) return;
      read++;
      const issue = (reason: string, message: string, field?: string) => {
        counts[reason] = (counts[reason] ?? 0) + 1;
        issues.push({ row: read, line: i + 1, reason, message, field });
      };
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch {
        return issue('malformed-json', 'not valid JSON');
      }
      const get = (k: string) => k.split('.').reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], o);
      const prompt = m ? (m.prompt ? get(m.prompt) : m.source ? `Translate this from ${m.langPair ?? 'X'}:\n${get(m.source)}\n` : undefined) : o.prompt;
      const chosen = m ? get(m.chosen) : o.chosen;
      const rejected = m ? get(m.rejected) : o.rejected;
      if (prompt === undefined || chosen === undefined || rejected === undefined) {
        if (!m && !('prompt' in o)) return issue('missing-field', 'no prompt/chosen/rejected columns', 'prompt');
        return issue('missing-field', 'a field is missing', prompt === undefined ? 'prompt' : chosen === undefined ? 'chosen' : 'rejected');
      }
      if (chosen === rejected) return issue('identical-pair', 'chosen equals rejected');
      const lp = (o.lang_pair as string | undefined) ?? m?.langPair;
      if (lp) langs[lp] = (langs[lp] ?? 0) + 1;
      rows.push({ line: i + 1, prompt: String(prompt), chosen: String(chosen), rejected: String(rejected), promptTokens: tokens(String(prompt)), chosenTokens: tokens(String(chosen)), rejectedTokens: tokens(String(rejected)) });
    });
    if (read > 0 && rows.length === 0 && (counts['missing-field'] ?? 0) === read && !m) {
      throw new Error(`${name}: unknown row format: no known layout matches the columns; give a column mapping`);
    }
    // Tokenization as the engine reports it: rows, named, after the bytes.
    for (let k = 0; k <= 5; k++) {
      onProgress?.({ loaded: Math.round((read * k) / 5), total: read, what: 'tokenize', unit: 'rows' });
      if (k < 5 && this.opts.tokenizeMs) await sleep(this.opts.tokenizeMs / 5);
    }
    const evalPairs = Math.round(rows.length * opts.evalFraction);
    const edges = [32, 64, 128, 256, 512];
    const hist = new Array(edges.length + 1).fill(0);
    for (const r of rows) {
      const len = r.promptTokens + Math.max(r.chosenTokens, r.rejectedTokens);
      const b = edges.findIndex((e) => len <= e);
      hist[b < 0 ? edges.length : b]++;
    }
    this.dataset = {
      name,
      container: name.endsWith('.json') ? 'json' : 'jsonl',
      format: m ? 'mapping' : 'trl',
      rowsRead: read,
      rowsUsable: rows.length,
      trainPairs: rows.length - evalPairs,
      evalPairs,
      fingerprint: hash(text),
      preview: rows.slice(0, 3),
      report: {
        file: name,
        container: 'jsonl',
        format: m ? 'mapping' : 'trl',
        rowsRead: read,
        rowsUsable: rows.length,
        counts,
        issues,
        issuesOmitted: 0,
        languagePairs: langs,
        warnings: [],
        tokenization: { histogram: { edges, counts: hist }, truncatedPrompts: rows.filter((r) => r.promptTokens > opts.maxPromptLength).length, truncatedCompletions: rows.filter((r) => r.promptTokens + Math.max(r.chosenTokens, r.rejectedTokens) > opts.maxLength).length, droppedLongPrompts: 0 },
      },
      reportText: `${name}: ${read} rows read, ${rows.length} usable\n${Object.entries(counts).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`,
    };
    return this.dataset;
  }

  private metricsAt(step: number, total: number, cfg: RunConfig): StepMetrics {
    const t = step / Math.max(1, total);
    const noise = Math.sin(step * 12.9898) * 0.04;
    const margin = 2.5 * t + noise * 2;
    const acc = Math.min(1, 0.5 + 0.45 * t + noise);
    const nll = 2.2 - 0.9 * t + noise;
    const loss = Math.log1p(Math.exp(-cfg.beta * margin * 10)) + cfg.cpoAlpha * nll;
    return {
      step,
      epoch: t * cfg.epochs,
      loss,
      nll_loss: nll,
      'rewards/chosen': -cfg.beta * (20 - 5 * t),
      'rewards/rejected': -cfg.beta * (20 + 20 * t),
      'rewards/accuracies': Math.max(0, acc),
      'rewards/margins': margin,
      'logps/chosen': -(20 - 5 * t),
      'logps/rejected': -(20 + 20 * t),
      'logits/chosen': -1.2,
      'logits/rejected': -1.3,
      grad_norm: 3 * Math.exp(-3 * t) + 0.3 + Math.abs(noise),
      learning_rate: cfg.schedule === 'constant' ? cfg.lr : cfg.lr * Math.min(1, 1 / Math.sqrt(Math.max(1, step))),
      tokens_per_second: 1800 + 200 * Math.sin(step / 3),
      step_time_ms: this.opts.stepMs,
      gpu_bytes: 180_000_000,
    };
  }

  async train(config: RunConfig, onEvent: (e: RunEvent) => void, resumeRunId?: string): Promise<RunRecord> {
    if (this.training) throw new Error('a run is already in progress');
    if (!this.model) throw new Error('no model loaded');
    if (!this.dataset && !resumeRunId) throw new Error('no dataset loaded');
    let rec: RunRecord;
    if (resumeRunId) {
      const r = this.runs.get(resumeRunId);
      if (!r) throw new Error(`no run ${resumeRunId}`);
      rec = r;
    } else {
      const perEpoch = Math.ceil((this.dataset!.trainPairs || 1) / (config.batchSize * config.gradAccum));
      const totalSteps = config.maxSteps > 0 ? config.maxSteps : Math.max(1, Math.ceil(perEpoch * config.epochs));
      const id = `run-${String(this.nextRun++).padStart(3, '0')}`;
      rec = { id, name: config.name, status: 'running', step: 0, totalSteps, createdAt: Date.now(), updatedAt: Date.now(), config, modelName: this.model.name, modelFingerprint: this.model.fingerprint, datasetName: this.dataset!.name, datasetFingerprint: this.dataset!.fingerprint };
      this.runs.set(id, rec);
      this.history.set(id, []);
    }
    this.training = true;
    this.control = 'run';
    rec.status = 'running';
    if (resumeRunId) await sleep(this.opts.resumeMs);
    this.save();
    onEvent({ type: 'started', runId: rec.id, totalSteps: rec.totalSteps, step: rec.step });
    onEvent({ type: 'status', runId: rec.id, status: 'running' });
    try {
      while (rec.step < rec.totalSteps) {
        await sleep(this.opts.stepMs);
        if (this.control !== 'run') break;
        rec.step++;
        const m = this.metricsAt(rec.step, rec.totalSteps, rec.config);
        this.history.get(rec.id)!.push(m);
        rec.lastMetrics = m;
        rec.updatedAt = Date.now();
        onEvent({ type: 'step', runId: rec.id, metrics: m, totalSteps: rec.totalSteps });
        if (rec.config.evalEvery > 0 && rec.step % rec.config.evalEvery === 0) {
          onEvent({ type: 'eval', runId: rec.id, step: rec.step, metrics: { eval_loss: m.loss * 1.05, 'eval_rewards/accuracies': m['rewards/accuracies'] * 0.95 } });
        }
        this.save();
        if (rec.config.checkpointEvery > 0 && rec.step % rec.config.checkpointEvery === 0) onEvent({ type: 'checkpoint', runId: rec.id, step: rec.step, bytes: 1_200_000 });
      }
      const control = this.control as 'run' | 'pause' | 'stop'; // changed by pause()/stop() while awaiting
      rec.status = control === 'pause' ? 'paused' : control === 'stop' ? 'stopped' : 'finished';
      if (rec.status === 'finished') this.finalEval(rec, onEvent);
      onEvent({ type: 'status', runId: rec.id, status: rec.status });
      return { ...rec };
    } finally {
      this.training = false;
      rec.updatedAt = Date.now();
      this.save();
    }
  }

  /** The end-of-run checks as the real engine reports them: eval loss over the eval split, then generation scores with samples. */
  private finalEval(rec: RunRecord, onEvent: (e: RunEvent) => void): void {
    const m = rec.lastMetrics!;
    const evalMetrics = { eval_loss: m.loss * 1.05, 'eval_rewards/accuracies': m['rewards/accuracies'] * 0.95, eval_pairs: Math.min(64, this.dataset?.evalPairs ?? 0), eval_split_pairs: this.dataset?.evalPairs ?? 0 };
    onEvent({ type: 'eval', runId: rec.id, step: rec.step, metrics: evalMetrics });
    const gen = { 'gen/chrf2_base': 31.25, 'gen/chrf2_adapter': 38.5, 'gen/chrfpp_base': 29.75, 'gen/chrfpp_adapter': 36.125, 'gen/bleu_base': 8.5, 'gen/bleu_adapter': 12.75, 'gen/examples': 2 };
    const samples = [
      { prompt: 'Translate this from German to English:\nGerman: Guten Morgen.\nEnglish:', reference: 'Good morning.', base: 'Good morgen.', adapter: 'Good morning.' },
      { prompt: 'Translate this from German to English:\nGerman: Danke schön.\nEnglish:', reference: 'Thank you very much.', base: 'Thanks beautiful.', adapter: 'Thank you very much.' },
    ];
    onEvent({ type: 'eval', runId: rec.id, step: rec.step, metrics: gen, samples });
    rec.evalScores = { ...evalMetrics, ...gen };
    rec.evalSamples = samples;
  }

  async pause(): Promise<void> {
    if (this.training) this.control = 'pause';
  }

  async stop(): Promise<void> {
    if (this.training) this.control = 'stop';
  }

  async markStopped(runId: string): Promise<RunRecord> {
    const r = this.runs.get(runId);
    if (!r) throw new Error(`no run ${runId}`);
    if (this.training && r.status === 'running') throw new Error(`run ${runId} is training`);
    if (r.step < r.totalSteps) r.status = 'stopped';
    r.updatedAt = Date.now();
    this.save();
    return { ...r };
  }

  async listRuns(): Promise<RunRecord[]> {
    return [...this.runs.values()].map((r) => ({ ...r }));
  }

  async runHistory(runId: string): Promise<StepMetrics[]> {
    return [...(this.history.get(runId) ?? [])];
  }

  async deleteRun(runId: string): Promise<void> {
    this.runs.delete(runId);
    this.history.delete(runId);
    this.save();
  }

  async exportAdapter(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles> {
    const r = this.runs.get(runId);
    if (!r) throw new Error(`no run ${runId}`);
    const cfg = { peft_type: 'LORA', r: r.config.r, lora_alpha: r.config.alpha, target_modules: r.config.targets, base_model_name_or_path: r.modelName, task_type: 'CAUSAL_LM' };
    const bytes = new Uint8Array(dtype === 'f16' ? 512 : 1024);
    return {
      files: [
        { name: 'adapter_model.safetensors', bytes },
        { name: 'adapter_config.json', bytes: new TextEncoder().encode(JSON.stringify(cfg, null, 2)) },
      ],
    };
  }

  async exportGguf(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles> {
    if (!this.runs.get(runId)) throw new Error(`no run ${runId}`);
    return { files: [{ name: `${runId}-adapter.gguf`, bytes: new Uint8Array(dtype === 'f16' ? 256 : 512) }] };
  }

  async exportWeb(runId: string, onProgress?: ExportProgress): Promise<WebExport> {
    if (!this.runs.get(runId)) throw new Error(`no run ${runId}`);
    onProgress?.({ loaded: 1, total: 2, what: 'running the export in onnxruntime-web' });
    await sleep(50);
    return { files: [{ name: `${runId}-web.zip`, bytes: new Uint8Array(22) }], sizes: { 'onnx/model.onnx': 1024 }, check: { steps: 6, maxAbsDiff: 1e-6, maxAbsLogit: 1, argmaxAgree: 6, ok: true, checked: 'fp32 file', prompt: 'p' } };
  }

  /** A synthetic Hub: every id has one config with a train and a test split. */
  async listHubDataset(repo: string): Promise<HubParquetListing> {
    const split = (name: string) => ({ config: 'default', split: name, partial: false, shards: [{ file: `default/${name}/0000.parquet`, size: 4096 }] });
    return { repo, commit: hash(repo).repeat(5), splits: [split('train'), split('test')] };
  }

  /** 24 TRL triplets read as loadDataset reads a file, named by the spec. */
  async loadHubDataset(spec: HubDatasetSpec, _hub: HubAccess, opts: DataOptions, onProgress?: (p: { loaded: number; total: number; what: string }) => void): Promise<DatasetInfo> {
    const rows = Array.from({ length: 24 }, (_, i) => JSON.stringify({ prompt: `Question ${i}?`, chosen: ` Answer ${i}.`, rejected: ` Wrong ${i}.` })).join('\n');
    const info = await this.loadDataset(Object.assign(new Blob([rows]), { name: 'hub.jsonl' }), opts, onProgress);
    return { ...info, name: `hf://datasets/${spec.repo}/${spec.config ?? 'default'}/${spec.split ?? 'train'}`, container: 'parquet', hub: { commit: hash(spec.repo).repeat(5), partial: false } };
  }

  async readHubParallel(..._a: Parameters<StudioEngine['readHubParallel']>): Promise<ParallelRead> {
    throw new Error('not implemented: readHubParallel (the synthetic engine has no parallel Hub data)');
  }

  async exportRecipe(runId: string): Promise<AdapterFiles> {
    if (!this.runs.get(runId)) throw new Error(`no run ${runId}`);
    return { files: [{ name: `${runId}-trl-recipe.zip`, bytes: new Uint8Array(22) }] };
  }

  async translate(sources: string[], opts: { srcLang: string; tgtLang: string; adapterRunId: string | null; maxNewTokens: number }): Promise<string[]> {
    if (!this.opts.translate) throw new Error('not implemented: translate');
    await sleep(100);
    return sources.map((s) => `[${opts.srcLang}→${opts.tgtLang}${opts.adapterRunId ? ` with ${opts.adapterRunId}` : ', base'}] ${s.split('').reverse().join('')}`);
  }

  /** n variants of each reference with words dropped, from a generator seeded by (seed, batch): as stable as the real one. */
  async prefsCandidates(rows: ParallelRow[], batchIndex: number, opts: CandidateOptions & { adapterRunId: string | null }): Promise<BatchCandidates> {
    if (!this.opts.translate) throw new Error('not implemented: prefsCandidates');
    await sleep(150);
    const rng = new Rng(opts.seed * 7919 + batchIndex);
    let n = 0;
    const texts = rows.map((r) =>
      Array.from({ length: opts.n }, () => {
        const words = r.reference.split(' ').filter(() => rng.next() > 0.35);
        n += words.length;
        return words.join(' ');
      }),
    );
    return { texts, tokens: n };
  }
}
