// The studio store's side of Hub datasets and the Runs screen's GGUF / web downloads, over the synthetic engine:
// what each call sends the engine (the spec, the session token, the Hub address from settings or this origin's
// override), re-reading a Hub split when the model changes, and what a passed or refused web check leaves behind.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdapterFiles, HubAccess, HubDatasetSpec, ParallelRead, WebExport } from '../../src/engine/types.ts';
import { settings } from '../../src/settings.ts';
import { hubAccess, SETTINGS_KEY, studioHubUrl } from '../../src/ui/lib/hub-access.ts';
import { SeriesStore } from '../../src/ui/lib/series.ts';
import { createStudioStore } from '../../src/ui/store/index.ts';
import { sourceStem } from '../../src/ui/store/prefs.ts';
import { FakeEngine } from './fake-engine.ts';

class HubEngine extends FakeEngine {
  hubCalls: { method: string; spec?: HubDatasetSpec; repo?: string; hub: HubAccess }[] = [];
  webFails: string | null = null;
  override async listHubDataset(repo: string, hub?: HubAccess) {
    this.hubCalls.push({ method: 'list', repo, hub: hub! });
    return super.listHubDataset(repo);
  }
  override async loadHubDataset(...a: Parameters<FakeEngine['loadHubDataset']>) {
    this.hubCalls.push({ method: 'load', spec: a[0], hub: a[1] });
    return super.loadHubDataset(...a);
  }
  override async readHubParallel(spec: HubDatasetSpec, hub: HubAccess): Promise<ParallelRead> {
    this.hubCalls.push({ method: 'parallel', spec, hub });
    const rows = [{ index: 0, origin: { row: 0, line: 1 }, src: 'de', tgt: 'en', source: 'Hallo.', reference: 'Hello.', systems: [] }];
    const report = { file: 'x', container: 'parquet', rows: 1, usable: 1, otherPairs: 0, columns: { source: 'src', reference: 'ref', langs: 'lp' }, systems: [], issueCount: 0, issues: [] };
    return { rows, report } as unknown as ParallelRead;
  }
  override async exportWeb(...a: Parameters<FakeEngine['exportWeb']>): Promise<WebExport> {
    if (this.webFails) throw new Error(this.webFails);
    return super.exportWeb(...a);
  }
}

function setup() {
  const engine = new HubEngine({ stepMs: 1, loadMs: 5 });
  const saved: AdapterFiles[] = [];
  const store = createStudioStore({ engine, series: new SeriesStore(), progressIntervalMs: 250, save: async (f, prefix) => (saved.push(f), f.files.map((x) => `${prefix}-${x.name}`)) });
  return { engine, store, saved };
}

afterEach(() => vi.unstubAllGlobals());

describe('studio store: Hub models', () => {
  it('asks the page for persistent storage before a Hub model downloads, not for the demo model', async () => {
    const persist = vi.fn(async () => true);
    vi.stubGlobal('navigator', { storage: { persisted: async () => false, persist } });
    const { store } = setup();
    await store.getState().loadModel(); // the demo model
    expect(persist).not.toHaveBeenCalled();
    store.getState().setModelChoice('hub');
    store.getState().setHubId('test/tiny');
    await store.getState().loadModel();
    expect(persist).toHaveBeenCalledTimes(1);
  });
});

describe('studio store: Hub datasets', () => {
  it('sends the session token and settings.hubUrl; this origin may override the address, never with a non-http value', () => {
    expect(hubAccess('  hf_x ')).toEqual({ hubUrl: settings.hubUrl, token: 'hf_x' });
    expect(hubAccess('')).toEqual({ hubUrl: 'https://huggingface.co' });
    const stored = new Map<string, string>();
    vi.stubGlobal('localStorage', { getItem: (k: string) => stored.get(k) ?? null });
    stored.set(SETTINGS_KEY, JSON.stringify({ hubUrl: 'http://127.0.0.1:8080/' }));
    expect(studioHubUrl()).toBe('http://127.0.0.1:8080');
    stored.set(SETTINGS_KEY, JSON.stringify({ hubUrl: 'javascript:alert(1)' }));
    expect(studioHubUrl()).toBe(settings.hubUrl);
    stored.set(SETTINGS_KEY, '{not json');
    expect(studioHubUrl()).toBe(settings.hubUrl);
  });

  it('reads a Hub split as the dataset, again when the model changes, and a dropped file replaces it', async () => {
    const { engine, store } = setup();
    const s = store.getState();
    s.setHubToken('hf_tok', false);
    expect((await s.listHubDataset('me/prefs')).splits.map((x) => x.split)).toEqual(['train', 'test']);
    await s.loadModel();
    await s.setDataHub({ repo: 'me/prefs', config: 'default', split: 'test' });
    expect(store.getState().dataInfo).toMatchObject({ name: 'hf://datasets/me/prefs/default/test', rowsUsable: 24 });
    expect(engine.hubCalls.map((c) => [c.method, c.hub])).toEqual([
      ['list', { hubUrl: settings.hubUrl, token: 'hf_tok' }],
      ['load', { hubUrl: settings.hubUrl, token: 'hf_tok' }],
    ]);
    await store.getState().loadModel();
    await vi.waitFor(() => expect(engine.hubCalls.filter((c) => c.method === 'load')).toHaveLength(2));
    await s.setDataFile(Object.assign(new Blob(['{"prompt":"p","chosen":"a","rejected":"b"}']), { name: 'x.jsonl' }));
    expect(store.getState().dataHub).toBeNull();
    expect(store.getState().dataInfo?.name).not.toMatch(/^hf:/);
  });

  it('reads parallel text by Hub id for the preference builder, and names the result after the split', async () => {
    const { engine, store } = setup();
    await store.getState().setPrefsHub({ repo: 'me/parallel', config: 'de-en', split: 'train' });
    expect(store.getState()).toMatchObject({ prefsStatus: 'ready', prefsFile: null, prefsRows: [{ source: 'Hallo.' }] });
    expect(engine.hubCalls.at(-1)).toMatchObject({ method: 'parallel', spec: { repo: 'me/parallel' } });
    expect(sourceStem('hf://datasets/me/parallel/de-en/train')).toBe('parallel-de-en-train');
    expect(sourceStem('wmt.jsonl.gz')).toBe('wmt');
  });
});

describe('studio store: GGUF and web downloads', () => {
  it('saves the GGUF file and the checked web zip, keeps the check with the run, and saves nothing when the check refuses', async () => {
    const { engine, store, saved } = setup();
    await store.getState().loadModel();
    await store.getState().setDataHub({ repo: 'me/prefs' });
    store.getState().setField('maxSteps', '2');
    await store.getState().startTraining();
    await store.getState().refreshRuns();
    const id = store.getState().runs[0].id;

    await store.getState().downloadGguf(id, 'f16');
    expect(saved.at(-1)!.files[0].name).toBe(`${id}-adapter.gguf`);
    expect(store.getState().runNotes[id]).toMatch(/^Saved .*\.gguf: use it with llama\.cpp/);

    await store.getState().downloadWeb(id);
    expect(store.getState().webChecks[id]).toMatchObject({ status: 'passed', check: { ok: true, steps: 6, argmaxAgree: 6 } });
    expect(saved.at(-1)!.files[0].name).toBe(`${id}-web.zip`);
    expect(store.getState().busyRunId).toBeNull();

    engine.webFails = 'the web export does not decode as the engine does in onnxruntime-web (max |logit difference| 3e-1)';
    const before = saved.length;
    await store.getState().downloadWeb(id);
    expect(store.getState().webChecks[id]).toEqual({ status: 'refused', message: engine.webFails });
    expect(store.getState().runNotes[id]).toBe(`Web export not offered: ${engine.webFails}`);
    expect(saved).toHaveLength(before);
  });
});
