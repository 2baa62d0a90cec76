// The studio's "Build from parallel data" path on the store with the synthetic engine: reading, preview, a build
// paused and resumed to the output of an uninterrupted one, refusals, and the result handed to the Data screen.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryPrefsStore } from '../../src/prefs/store.ts';
import { SeriesStore } from '../../src/ui/lib/series.ts';
import { createStudioStore } from '../../src/ui/store/index.ts';
import { FakeEngine } from '../ui/fake-engine.ts';
import { WMT22 } from './util.ts';

const wmt = (n: number) => Object.assign(new Blob([readFileSync(resolve(WMT22, 'de-en.jsonl'), 'utf8').split('\n').slice(0, n).join('\n') + '\n']), { name: 'de-en.jsonl' });

async function setup(prefsStore = new MemoryPrefsStore()) {
  const store = createStudioStore({ engine: new FakeEngine({ stepMs: 2, loadMs: 5 }), series: new SeriesStore(), progressIntervalMs: 0, prefsStore });
  await store.getState().loadModel();
  return store;
}

describe('Build from parallel data (store)', () => {
  it('reads, previews, builds with pause and resume, and hands the pairs to the Data screen', async () => {
    const store = await setup();
    const s = () => store.getState();
    await s().setPrefsFile(wmt(12));
    expect(s().prefsStatus).toBe('ready');
    expect(s().prefsReport).toMatchObject({ usable: 12, systems: ['alma13b_lora', 'alma13b_r', 'gpt4', 'wmt_winner', 'madlad10b'] });
    s().setPrefsForm({ batchSize: 4, n: 3, includeReference: false, systems: 'gpt4' });
    await s().readPrefsFile();
    expect(s().prefsReport?.systems).toEqual(['gpt4']);

    await s().previewPrefs(3);
    const preview = s().prefsPreview!;
    expect(preview).toHaveLength(3);
    for (const r of preview) expect(r.candidates.some((c) => c.from.includes('system:gpt4'))).toBe(true);

    // Pause once the first batch is in: the store keeps it; building again resumes at source 4.
    const built = s().buildPrefs();
    await new Promise<void>((res) => {
      const off = store.subscribe((st) => {
        if (st.prefsProgress && st.prefsProgress.done >= 4) {
          st.pausePrefs();
          off();
          res();
        }
      });
    });
    await built;
    expect(s().prefsStatus).toBe('paused');
    expect(s().prefsProgress?.done).toBe(4);
    await s().buildPrefs();
    expect(s().prefsStatus).toBe('done');
    const text = s().prefsJsonl();
    // The preview's sources are the build's first batch's: the same candidates.
    expect(s().prefsRecords!.slice(0, 3).map((r) => r.candidates)).toEqual(preview.map((r) => r.candidates));

    const other = await setup();
    await other.getState().setPrefsFile(wmt(12));
    other.getState().setPrefsForm({ batchSize: 4, n: 3, includeReference: false, systems: 'gpt4' });
    await other.getState().readPrefsFile();
    await other.getState().buildPrefs();
    expect(other.getState().prefsJsonl()).toBe(text);

    await s().usePrefs();
    expect(s().dataFile?.name).toBe('de-en-prefs.jsonl');
    expect(s().dataInfo?.rowsUsable).toBe(text.trimEnd().split('\n').length);
  });

  it('says what is wrong with the file, and refuses saved progress of other settings until started over', async () => {
    const prefsStore = new MemoryPrefsStore();
    const store = await setup(prefsStore);
    const s = () => store.getState();
    await s().setPrefsFile(Object.assign(new Blob(['{"text": "a"}\n']), { name: 'bad.jsonl' }));
    expect(s().prefsStatus).toBe('error');
    expect(s().prefsError).toMatch(/bad\.jsonl: no source column/);
    await s().setPrefsFile(wmt(6));
    s().setPrefsForm({ batchSize: 2, n: 2 });
    await s().buildPrefs();
    expect(s().prefsStatus).toBe('done');
    s().setPrefsForm({ metric: 'bleu' });
    await s().buildPrefs();
    expect(s().prefsStatus).toBe('error');
    expect(s().prefsError).toMatch(/other settings, model or data .*start over/);
    await s().buildPrefs(true);
    expect(s().prefsStatus).toBe('done');
    expect(s().prefsRecords).toHaveLength(6);
  });
});
