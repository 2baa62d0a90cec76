// Base model vs adapter translations of the same sentence.
import { errorMessage, type SliceCreator } from './types.ts';
import type { CompareSlice } from './slices.ts';

export type { CompareSlice };

export const createCompareSlice: SliceCreator<CompareSlice> = (deps) => (set, get) => ({
  compareSource: '',
  srcLang: 'de',
  tgtLang: 'en',
  compareRunId: null,
  compareStatus: 'idle',
  compareResult: null,
  compareError: null,
  setCompare: (patch) => set(patch),
  async translate() {
    const { compareSource, srcLang, tgtLang, compareRunId } = get();
    if (!compareSource.trim() || !compareRunId) return;
    set({ compareStatus: 'running', compareError: null, compareResult: null });
    const opts = { srcLang, tgtLang, maxNewTokens: 256 };
    try {
      // One after the other: both share the one GPU device and the base weights.
      const [base] = await deps.engine.translate([compareSource], { ...opts, adapterRunId: null });
      const [adapter] = await deps.engine.translate([compareSource], { ...opts, adapterRunId: compareRunId });
      set({ compareStatus: 'done', compareResult: { base, adapter } });
    } catch (e) {
      const msg = errorMessage(e);
      set({ compareStatus: /not implemented/i.test(msg) ? 'unsupported' : 'error', compareError: msg });
    }
  },
});
