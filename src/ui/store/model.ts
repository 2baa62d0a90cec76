// Choosing and loading the base model.
import { requestPersistentStorage } from '../../io/hub.ts';
import { throttle } from '../lib/throttle.ts';
import { hubAccess } from '../lib/hub-access.ts';
import { loadHubToken, saveHubToken } from '../lib/token.ts';
import { errorMessage, type Progress, type SliceCreator } from './types.ts';
import type { ModelChoice, ModelSlice } from './slices.ts';

export type { ModelChoice, ModelSlice };

export const createModelSlice: SliceCreator<ModelSlice> = (deps) => (set, get) => ({
  modelChoice: 'demo',
  hubId: 'Qwen/Qwen2.5-0.5B-Instruct',
  hubToken: loadHubToken().token,
  rememberHubToken: loadHubToken().remember,
  modelFiles: [],
  ggufFile: null,
  quant: 'q4_0',
  plannedModelId: 'demo',
  modelStatus: 'idle',
  modelProgress: null,
  modelInfo: null,
  modelError: null,
  setModelChoice: (modelChoice) => set({ modelChoice, modelError: null, ...(modelChoice === 'demo' ? { plannedModelId: 'demo' } : {}) }),
  setHubId: (hubId) => set({ hubId, modelError: null }),
  setHubToken(hubToken, rememberHubToken) {
    saveHubToken(hubToken, rememberHubToken);
    set({ hubToken, rememberHubToken });
  },
  setModelFiles(files) {
    // A single .gguf is a GGUF checkpoint; anything else is read as a Hugging Face folder.
    const gguf = files.length === 1 && /\.gguf$/i.test(files[0].name) ? files[0] : null;
    set(gguf ? { ggufFile: gguf, modelFiles: [], modelChoice: 'gguf', modelError: null } : { modelFiles: files, ggufFile: null, modelChoice: 'files', modelError: null });
  },
  setQuant: (quant) => set((s) => ({ quant, config: { ...s.config, quant } })),
  setPlannedModel: (plannedModelId) => set({ plannedModelId }),
  modelSource() {
    const s = get();
    switch (s.modelChoice) {
      case 'demo':
        return { kind: 'demo' };
      case 'hub':
        return s.hubId.trim() ? { kind: 'hub', id: s.hubId.trim(), ...hubAccess(s.hubToken) } : null;
      case 'files':
        return s.modelFiles.length ? { kind: 'files', files: s.modelFiles } : null;
      case 'gguf':
        return s.ggufFile ? { kind: 'gguf', file: s.ggufFile } : null;
    }
  },
  async loadModel() {
    const source = get().modelSource();
    if (!source || get().modelStatus === 'loading') return;
    set({ modelStatus: 'loading', modelError: null, modelProgress: null });
    // navigator.storage.persist() exists on the page only (the worker that downloads cannot ask), and a Hub model
    // is usually GBs: ask before the download, so the Cache API keeps it under storage pressure.
    if (source.kind === 'hub') await requestPersistentStorage();
    const progress = throttle((p: Progress) => set({ modelProgress: p }), deps.progressIntervalMs ?? 250);
    try {
      const info = await deps.engine.loadModel(source, get().quant, progress);
      progress.cancel();
      set({ modelStatus: 'ready', modelInfo: info, modelProgress: null });
      // Token counts and truncation depend on the tokenizer: a dataset read before must be read again.
      if (get().dataFile || get().dataHub) void get().loadDataset(get().dataLengths ?? undefined);
    } catch (e) {
      progress.cancel();
      set({ modelStatus: 'error', modelError: errorMessage(e), modelProgress: null });
    }
  },
});
