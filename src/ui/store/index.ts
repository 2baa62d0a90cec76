// The studio store: one zustand store made of slices, created per engine so tests can build their own.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createCompareSlice } from './compare.ts';
import { createDataSlice } from './data.ts';
import { createExportsSlice } from './exports.ts';
import { createGpuSlice } from './gpu.ts';
import { createModelSlice } from './model.ts';
import { createNavSlice } from './nav.ts';
import { createPrefsSlice } from './prefs.ts';
import { createRunsSlice } from './runs.ts';
import { createTrainingSlice } from './training.ts';
import type { StudioDeps, StudioState } from './types.ts';

export type StudioStore = StoreApi<StudioState>;
export type { StudioDeps, StudioState };

export function createStudioStore(deps: StudioDeps): StudioStore {
  return createStore<StudioState>()((...a) => ({
    ...createNavSlice(deps)(...a),
    ...createGpuSlice(deps)(...a),
    ...createModelSlice(deps)(...a),
    ...createDataSlice(deps)(...a),
    ...createTrainingSlice(deps)(...a),
    ...createRunsSlice(deps)(...a),
    ...createCompareSlice(deps)(...a),
    ...createPrefsSlice(deps)(...a),
    ...createExportsSlice(deps)(...a),
  }));
}
