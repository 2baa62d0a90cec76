// The worker protocol end to end over a MessageChannel: the page's client (client.ts) against the dispatcher the
// engine worker itself runs (serve.ts), with a recording engine behind it. Callbacks come back as progress
// replies in order, errors keep their name and message, and only the StudioEngine methods can be called.
import { afterEach, describe, expect, it } from 'vitest';
import type { AdapterFiles, DatasetInfo, GpuInfo, ModelInfo, RunConfig, RunEvent, RunRecord, StudioEngine } from '../../src/engine/types.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { WorkerEngine, type WorkerLike } from '../../src/workers/client.ts';
import type { Reply } from '../../src/workers/protocol.ts';
import { CALLBACK_ARG, serveEngine } from '../../src/workers/serve.ts';

const open: MessagePort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

class RecordingEngine implements StudioEngine {
  calls: { method: string; args: unknown[] }[] = [];
  private rec(method: string, args: unknown[]) {
    this.calls.push({ method, args: args.map((a) => (typeof a === 'function' ? 'callback' : a)) });
  }
  async gpuInfo(): Promise<GpuInfo> {
    this.rec('gpuInfo', []);
    return { available: true, adapter: 'test', f16: true, subgroups: false, maxStorageBufferBindingSize: 1, maxBufferSize: 2 };
  }
  async loadModel(...a: Parameters<StudioEngine['loadModel']>): Promise<ModelInfo> {
    this.rec('loadModel', a);
    for (let i = 1; i <= 3; i++) a[2]?.({ loaded: i, total: 3, what: `t${i}` });
    return { name: 'm', architecture: 'LlamaForCausalLM', layers: 1, hidden: 8, heads: 1, kvHeads: 1, vocab: 16, quant: a[1], baseBytes: 1, fingerprint: 'f', hasChatTemplate: false };
  }
  async loadDataset(...a: Parameters<StudioEngine['loadDataset']>): Promise<DatasetInfo> {
    this.rec('loadDataset', a);
    const text = await a[0].text();
    for (let i = 0; i <= 2; i++) a[2]?.({ loaded: i, total: 2, what: 'tokenize', unit: 'rows' });
    return { name: 'd', container: 'jsonl', format: 'trl', rowsRead: text.split('\n').length, rowsUsable: 1, trainPairs: 1, evalPairs: 0, fingerprint: 'x', preview: [], report: {}, reportText: '' };
  }
  async train(config: RunConfig, onEvent: (e: RunEvent) => void, resumeRunId?: string): Promise<RunRecord> {
    this.rec('train', [config, onEvent, resumeRunId]);
    onEvent({ type: 'started', runId: 'r', totalSteps: 2, step: 0 });
    onEvent({ type: 'status', runId: 'r', status: 'finished' });
    return { id: resumeRunId ?? 'r', name: config.name, status: 'finished', step: 2, totalSteps: 2, createdAt: 0, updatedAt: 0, config, modelName: 'm', modelFingerprint: 'f', datasetName: 'd', datasetFingerprint: 'x' };
  }
  async pause() {
    this.rec('pause', []);
  }
  async stop() {
    this.rec('stop', []);
  }
  async markStopped(runId: string): Promise<RunRecord> {
    this.rec('markStopped', [runId]);
    const config = presetConfig('quick', { name: 'p' });
    return { id: runId, name: 'p', status: 'stopped', step: 1, totalSteps: 2, createdAt: 0, updatedAt: 0, config, modelName: 'm', modelFingerprint: 'f', datasetName: 'd', datasetFingerprint: 'x' };
  }
  async listRuns() {
    return [];
  }
  async runHistory(runId: string) {
    this.rec('runHistory', [runId]);
    return [];
  }
  async deleteRun(runId: string) {
    this.rec('deleteRun', [runId]);
  }
  async exportAdapter(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles> {
    this.rec('exportAdapter', [runId, dtype]);
    return { files: [{ name: 'adapter_model.safetensors', bytes: new Uint8Array([1, 2, 3]) }] };
  }
  async listHubDataset(...a: Parameters<StudioEngine['listHubDataset']>) {
    this.rec('listHubDataset', a);
    return { repo: a[0], commit: 'c'.repeat(40), splits: [] };
  }
  async loadHubDataset(...a: Parameters<StudioEngine['loadHubDataset']>): Promise<DatasetInfo> {
    this.rec('loadHubDataset', a);
    a[3]?.({ loaded: 5, total: 10, what: 'download' });
    return { name: `hf://datasets/${a[0].repo}`, container: 'parquet', format: 'trl', rowsRead: 1, rowsUsable: 1, trainPairs: 1, evalPairs: 0, fingerprint: 'h', preview: [], report: {}, reportText: '', hub: { commit: 'c', partial: false } };
  }
  async readHubParallel(...a: Parameters<StudioEngine['readHubParallel']>) {
    this.rec('readHubParallel', a);
    a[3]?.({ loaded: 1, total: 1, what: 'read' });
    return { rows: [], report: { file: a[0].repo, container: 'parquet', rows: 0, usable: 0, otherPairs: 0, columns: { source: 's', reference: 'r', langs: 'lp' }, systems: [], issueCount: 0, issues: [] } } as unknown as Awaited<ReturnType<StudioEngine['readHubParallel']>>;
  }
  async exportGguf(runId: string, dtype: 'f32' | 'f16'): Promise<AdapterFiles> {
    this.rec('exportGguf', [runId, dtype]);
    return { files: [{ name: 'a.gguf', bytes: new Uint8Array([71, 71, 85, 70]) }] };
  }
  async exportWeb(...a: Parameters<StudioEngine['exportWeb']>) {
    this.rec('exportWeb', a);
    a[1]?.({ loaded: 1, total: 2, what: 'check' });
    return { files: [], sizes: {}, check: { steps: 1, maxAbsDiff: 0, maxAbsLogit: 1, argmaxAgree: 1, ok: true, checked: 'fp32 file', prompt: 'p' } };
  }
  async exportRecipe(runId: string): Promise<AdapterFiles> {
    throw new RangeError(`run ${runId} has no checkpoint`);
  }
  async translate(sources: string[]) {
    return sources.map((s) => s.toUpperCase());
  }
  async prefsCandidates(...a: Parameters<StudioEngine['prefsCandidates']>) {
    this.rec('prefsCandidates', a);
    return { texts: a[0].map((r) => [r.source.toUpperCase()]), tokens: a[0].length };
  }
  /** Not part of StudioEngine: the worker must not let the page call it. */
  async secret() {
    this.rec('secret', []);
  }
}

function pair() {
  const engine = new RecordingEngine();
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  serveEngine(port2, engine);
  return { engine, client: new WorkerEngine(port1 as unknown as WorkerLike), port: port1 };
}

describe('the engine worker protocol (serve.ts ↔ client.ts)', () => {
  it('calls the named method with the arguments by position and returns its value', async () => {
    const { engine, client } = pair();
    expect((await client.gpuInfo()).adapter).toBe('test');
    expect(await client.translate(['ab', 'c'], { srcLang: 'de', tgtLang: 'en', adapterRunId: null, maxNewTokens: 4 })).toEqual(['AB', 'C']);
    const row = { index: 0, origin: { row: 0, line: 1 }, src: 'de', tgt: 'en', source: 'hallo', reference: 'hello', systems: [] };
    const cand = { n: 2, strategy: 'sample' as const, temperature: 1, topP: 1, seed: 3, maxNewTokens: 4, useLora: false, adapterRunId: null };
    expect(await client.prefsCandidates([row], 5, cand)).toEqual({ texts: [['HALLO']], tokens: 1 });
    expect(engine.calls.at(-1)).toEqual({ method: 'prefsCandidates', args: [[row], 5, cand] });
    const files = await client.exportAdapter('run-1', 'f16');
    expect(files.files[0].bytes).toEqual(new Uint8Array([1, 2, 3]));
    await client.deleteRun('run-2');
    expect((await client.markStopped('run-4')).status).toBe('stopped');
    expect(engine.calls.slice(-3)).toEqual([
      { method: 'exportAdapter', args: ['run-1', 'f16'] },
      { method: 'deleteRun', args: ['run-2'] },
      { method: 'markStopped', args: ['run-4'] },
    ]);
  });

  it('puts a callback where the page left the slot, and delivers its calls as progress in order', async () => {
    const { engine, client } = pair();
    const seen: string[] = [];
    const info = await client.loadModel({ kind: 'demo' }, 'q8_0', (p) => seen.push(`${p.what} ${p.loaded}/${p.total}`));
    expect(info.quant).toBe('q8_0');
    expect(seen).toEqual(['t1 1/3', 't2 2/3', 't3 3/3']);
    expect(engine.calls.at(-1)).toEqual({ method: 'loadModel', args: [{ kind: 'demo' }, 'q8_0', 'callback'] });
    const events: RunEvent[] = [];
    const rec = await client.train(presetConfig('quick', { name: 'w' }), (e) => events.push(e), 'run-9');
    expect(rec.id).toBe('run-9');
    expect(events.map((e) => e.type)).toEqual(['started', 'status']);
    expect(engine.calls.at(-1)!.args.slice(1)).toEqual(['callback', 'run-9']);
    // Every method with a callback has its slot listed (loadDataset's Blob crosses as a Blob).
    expect(CALLBACK_ARG).toEqual({ loadModel: 2, loadDataset: 2, loadHubDataset: 3, readHubParallel: 3, train: 1, exportWeb: 1 });
    const opts = { maxLength: 8, maxPromptLength: 4, evalFraction: 0, seed: 1 };
    // Tokenization's progress counts rows, and says so.
    const rows: string[] = [];
    const d = await client.loadDataset(new File(['a\nb'], 'd.jsonl'), opts, (p) => rows.push(`${p.what} ${p.loaded}/${p.total} ${p.unit}`));
    expect(d.rowsRead).toBe(2);
    expect(rows).toEqual(['tokenize 0/2 rows', 'tokenize 1/2 rows', 'tokenize 2/2 rows']);
    // Hub datasets: the spec and the page's Hub access (token, address) cross; progress comes back.
    const hub = { token: 't', hubUrl: 'http://127.0.0.1:1' };
    const got: string[] = [];
    const h = await client.loadHubDataset({ repo: 'o/n', config: 'default', split: 'train' }, hub, opts, (p) => got.push(`${p.what} ${p.loaded}/${p.total}`));
    expect(h.hub).toEqual({ commit: 'c', partial: false });
    expect(engine.calls.at(-1)).toEqual({ method: 'loadHubDataset', args: [{ repo: 'o/n', config: 'default', split: 'train' }, hub, opts, 'callback'] });
    await client.readHubParallel({ repo: 'o/p' }, {}, { pair: 'de-en' }, (p) => got.push(`${p.what} ${p.loaded}/${p.total}`));
    expect((await client.listHubDataset('o/n', hub)).repo).toBe('o/n');
    const web = await client.exportWeb('run-1', (p) => got.push(`${p.what} ${p.loaded}/${p.total}`));
    expect(web.check.ok).toBe(true);
    expect(got).toEqual(['download 5/10', 'read 1/1', 'check 1/2']);
    expect((await client.exportGguf('run-1', 'f16')).files[0].name).toBe('a.gguf');
    expect(engine.calls.at(-1)).toEqual({ method: 'exportGguf', args: ['run-1', 'f16'] });
  });

  it('rethrows the engine error with its name and message', async () => {
    const { client } = pair();
    await expect(client.exportRecipe('run-3')).rejects.toMatchObject({ name: 'RangeError', message: 'run run-3 has no checkpoint' });
  });

  it('refuses a request naming anything that is not a StudioEngine method', async () => {
    const { engine, port } = pair();
    const reply = new Promise<Reply>((resolve) => port.addEventListener('message', (e) => resolve(e.data as Reply)));
    port.start();
    port.postMessage({ id: 77, kind: 'secret', args: [] });
    const r = await reply;
    expect(r).toMatchObject({ id: 77, type: 'throw', error: { message: 'unknown request secret' } });
    expect(engine.calls.some((c) => c.method === 'secret')).toBe(false);
  });
});
