// The studio's engine without a worker (the worker only forwards to it): model, dataset, a short run,
// the run list, and both exports.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/engine/local.ts';
import { MAX_EVAL_PAIRS } from '../../src/engine/session.ts';
import { evalSplitNote, resultsOf } from '../../src/ui/lib/results.ts';
import { COMPILE_PHASE, type LoadProgress, type RunEvent, type RunRecord } from '../../src/engine/types.ts';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { REPO } from '../train/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-engine-'));
const engine = new LocalEngine(new FolderRunStore(dir));
afterAll(() => {
  engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('LocalEngine', { timeout: 900_000 }, () => {
  it('loads the tiny model and the demo data, trains, lists, exports the adapter and the TRL recipe', async () => {
    const info = await engine.gpuInfo();
    expect(info.available).toBe(true);
    const loading: LoadProgress[] = [];
    const model = await engine.loadModel({ kind: 'path', path: resolve(REPO, 'public/models/tiny') }, 'q8_0', (p) => loading.push(p));
    expect(model).toMatchObject({ architecture: 'LlamaForCausalLM', quant: 'q8_0', hasChatTemplate: true });
    // After the weights, the shaders still compiling are a phase of their own, counted in pipelines up to all of them.
    const compiled = loading.filter((p) => p.what === COMPILE_PHASE);
    expect(compiled.length).toBeGreaterThan(0);
    expect(loading.findIndex((p) => p.what === COMPILE_PHASE)).toBeGreaterThan(loading.findLastIndex((p) => p.what.startsWith('load ')));
    expect(compiled.every((p) => p.unit === 'pipelines' && p.total === compiled[0].total && p.loaded <= p.total)).toBe(true);
    expect(compiled.at(-1)!.loaded).toBe(compiled[0].total);
    expect(compiled[0].total).toBeGreaterThan(10);
    const demo = readFileSync(resolve(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').slice(0, 24).join('\n');
    const opts = { maxLength: 64, maxPromptLength: 48, evalFraction: 0.25, seed: 42 };
    const progress: LoadProgress[] = [];
    const data = await engine.loadDataset(Object.assign(new Blob([demo]), { name: 'demo.jsonl' }), opts, (p) => progress.push(p));
    expect(data.format).toBe('translation');
    // Tokenization is a phase of its own, counted in rows, after the file's bytes are read.
    const tok = progress.filter((p) => p.what === 'tokenize');
    expect(tok.every((p) => p.unit === 'rows' && p.total === data.rowsRead)).toBe(true);
    expect(tok.at(-1)).toMatchObject({ loaded: data.rowsRead, total: data.rowsRead });
    expect(progress.findIndex((p) => p.what === 'tokenize')).toBeGreaterThan(progress.findLastIndex((p) => p.what.startsWith('read ')));
    expect(data.trainPairs + data.evalPairs).toBe(data.rowsUsable);
    expect(data.preview[0].promptTokens).toBeGreaterThan(0);

    const events: RunEvent[] = [];
    const cfg = presetConfig('quick', { name: 'engine-test', quant: 'q8_0', maxSteps: 2, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 1 });
    const rec = await engine.train(cfg, (e) => events.push(e));
    expect(rec.status).toBe('finished');
    expect(events.filter((e) => e.type === 'step')).toHaveLength(2);
    expect(events.some((e) => e.type === 'eval')).toBe(true);
    const listed = await engine.listRuns();
    expect(listed.map((r) => r.id)).toEqual([rec.id]);
    // The end-of-run generation check is kept with the run: its scores, and its translations side by side.
    for (const k of ['gen/chrf2_base', 'gen/chrf2_adapter', 'gen/bleu_base', 'gen/bleu_adapter']) expect(Number.isFinite(listed[0].evalScores?.[k]), k).toBe(true);
    const shown = events.findLast((e) => e.type === 'eval' && e.samples);
    expect(shown?.type === 'eval' && shown.samples?.length).toBeGreaterThan(0);
    expect(listed[0].evalSamples).toEqual(shown?.type === 'eval' ? shown.samples : null);
    // Read back from the store by another engine (a reload of the page): the same.
    expect((await new LocalEngine(new FolderRunStore(dir)).listRuns())[0].evalSamples).toEqual(listed[0].evalSamples);
    const [base, tuned] = await Promise.all([null, rec.id].map((id) => engine.translate(['Guten Morgen.'], { srcLang: 'de', tgtLang: 'en', adapterRunId: id, maxNewTokens: 6 })));
    expect(base).toHaveLength(1);
    expect(tuned).toHaveLength(1);
    expect(await engine.runHistory(rec.id)).toHaveLength(2);

    const adapter = await engine.exportAdapter(rec.id, 'f16');
    const st = await openSafetensors(memorySource(adapter.files.find((f) => f.name === 'adapter_model.safetensors')!.bytes, 'adapter'));
    expect(st.tensors.size).toBe(2 * 2 * 7);
    expect([...st.tensors.values()].every((t) => t.dtype === 'F16')).toBe(true);

    const recipe = await engine.exportRecipe(rec.id);
    const zip = new TextDecoder('latin1').decode(recipe.files[0].bytes);
    for (const f of ['train.jsonl', 'eval.jsonl', 'trainer_config.json', 'lora_config.json', 'train_cpo.py', 'README.md']) expect(zip).toContain(`trl-recipe/${f}`);

    await engine.deleteRun(rec.id);
    expect(await engine.listRuns()).toEqual([]);
  });

  // The same engine, model and dataset as above (its pipelines are compiled already: a separate file took 114 s).
  it('lists a run as running from its first step (a reload then shows it interrupted), and as stopped once stopped', async () => {
    // No periodic checkpoint: only the save at the run's start can list it mid-run.
    const cfg = presetConfig('quick', { name: 'states', quant: 'q8_0', maxSteps: 50, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 0, evalEvery: 0 });
    let listedMidRun: Promise<RunRecord[]> | null = null;
    const rec = await engine.train(cfg, (e) => {
      if (e.type === 'step' && !listedMidRun) listedMidRun = engine.listRuns().then(async (l) => (await engine.stop(), l));
    });
    const mid = await listedMidRun!;
    expect(mid.find((r) => r.id === rec.id)).toMatchObject({ status: 'running', step: 0 });
    expect(rec.status).toBe('stopped');
    // Listed as it ended (a paused run's 'paused' is written by the same line; tests/train covers pausing).
    const listed = await engine.listRuns();
    expect(listed.map((r) => [r.id, r.status])).toEqual([[rec.id, 'stopped']]);
    expect(listed[0].step).toBeGreaterThan(0);
    expect(listed[0].step).toBeLessThan(50);
  });

  it('marks a paused run stopped in its checkpoint, so a reload lists it Stopped; the run in progress is refused', async () => {
    const cfg = presetConfig('quick', { name: 'paused-then-stopped', quant: 'q8_0', maxSteps: 50, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 0, evalEvery: 0 });
    let refused: Promise<unknown> | null = null;
    const rec = await engine.train(cfg, (e) => {
      if (e.type === 'step' && !refused) {
        refused = engine.markStopped(e.runId).catch((err: Error) => err.message);
        void engine.pause();
      }
    });
    expect(await refused).toMatch(/is training: stop it/);
    expect(rec.status).toBe('paused');
    const stopped = await engine.markStopped(rec.id);
    expect(stopped).toMatchObject({ id: rec.id, status: 'stopped', step: rec.step });
    // Another engine on the same store, as a reloaded page has: still stopped, at the same step, still exportable.
    const reloaded = new LocalEngine(new FolderRunStore(dir));
    expect((await reloaded.listRuns()).find((r) => r.id === rec.id)).toMatchObject({ status: 'stopped', step: rec.step });
    expect((await reloaded.exportAdapter(rec.id, 'f32')).files.length).toBeGreaterThan(0);
  });
  // More held-out pairs than a periodic eval scores (MAX_EVAL_PAIRS): the engine says it sampled them, and the
  // results card's wording (ui/lib/results.ts, the function ResultsCard shows) says so from the engine's numbers.
  it('reports an eval over a sample of a held-out split larger than MAX_EVAL_PAIRS, and the results card says so', async () => {
    const lines = readFileSync(resolve(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 110);
    const data = await engine.loadDataset(Object.assign(new Blob([lines.join('\n')]), { name: 'demo-110.jsonl' }), { maxLength: 64, maxPromptLength: 48, evalFraction: 0.75, seed: 42 });
    expect(data.evalPairs).toBeGreaterThan(MAX_EVAL_PAIRS);
    const evals: Record<string, number>[] = [];
    const cfg = presetConfig('quick', { name: 'sampled-eval', quant: 'q8_0', maxSteps: 1, batchSize: 2, maxLength: 64, maxPromptLength: 48, checkpointEvery: 0, evalEvery: 0 });
    const rec = await engine.train(cfg, (e) => e.type === 'eval' && evals.push(e.metrics));
    expect(rec.status).toBe('finished');
    const m = evals.find((x) => x.eval_pairs !== undefined)!;
    expect(m).toMatchObject({ eval_pairs: MAX_EVAL_PAIRS, eval_split_pairs: data.evalPairs });
    const note = evalSplitNote(resultsOf(m)!);
    expect(note).toBe(`Eval over a sample: the first ${MAX_EVAL_PAIRS} of the ${data.evalPairs} held-out pairs the Data screen shows (sampled to keep evals short).`);
    // Without the Data screen's count (a reload before the dataset is read again), the engine's own count still says it.
    expect(evalSplitNote(resultsOf(m)!, undefined)).toBe(note);
  });
});
