// The Runs screen's GGUF and web (ONNX) downloads of a stored run, beside the PEFT zip (runs.ts): the engine
// exports from the checkpoint and the loaded base model; the web export is offered only after its
// onnxruntime-web check passed, and the check's figures stay with the run for this session.
import { downloadAdapter, safeFileStem } from '../lib/download.ts';
import { throttle } from '../lib/throttle.ts';
import { errorMessage, type Progress, type SliceCreator } from './types.ts';
import type { ExportsSlice, WebCheckView } from './slices.ts';

export type { ExportsSlice, WebCheckView };

export const createExportsSlice: SliceCreator<ExportsSlice> = (deps) => (set, get) => {
  const note = (id: string, msg: string) => set((s) => ({ runNotes: { ...s.runNotes, [id]: msg } }));
  const save = (files: Parameters<typeof downloadAdapter>[0], id: string) => (deps.save ?? downloadAdapter)(files, safeFileStem(get().runs.find((r) => r.id === id)?.name ?? id));
  return {
    webChecks: {},
    exportProgress: null,
    async downloadGguf(id, dtype) {
      set({ busyRunId: id });
      note(id, 'Writing the GGUF adapter…');
      try {
        const names = await save(await deps.engine.exportGguf(id, dtype), id);
        note(id, `Saved ${names.join(', ')}: use it with llama.cpp (llama-cli -m BASE.gguf --lora ${names[0]}) or Ollama's ADAPTER line.`);
      } catch (e) {
        note(id, `GGUF export failed: ${errorMessage(e)}`);
      } finally {
        set({ busyRunId: null });
      }
    },
    async downloadWeb(id) {
      set({ busyRunId: id, exportProgress: null, webChecks: { ...get().webChecks, [id]: { status: 'checking' } } });
      note(id, 'Exporting for the web and checking it in onnxruntime-web…');
      const progress = throttle((p: Progress) => set({ exportProgress: p }), deps.progressIntervalMs ?? 250);
      try {
        const web = await deps.engine.exportWeb(id, progress);
        progress.cancel();
        set((s) => ({ webChecks: { ...s.webChecks, [id]: { status: 'passed', check: web.check, sizes: web.sizes } } }));
        const names = await save(web, id);
        note(id, `Saved ${names.join(', ')}: unzip it and load the folder with transformers.js, pipeline('text-generation', folder).`);
      } catch (e) {
        progress.cancel();
        set((s) => ({ webChecks: { ...s.webChecks, [id]: { status: 'refused', message: errorMessage(e) } } }));
        note(id, `Web export not offered: ${errorMessage(e)}`);
      } finally {
        set({ busyRunId: null, exportProgress: null });
      }
    },
  };
};
