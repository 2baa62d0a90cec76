// The combined studio state and what every slice creator receives.
import type { StateCreator } from 'zustand';
import type { StudioEngine } from '../../engine/types.ts';
import type { SeriesStore } from '../lib/series.ts';
import type { CompareSlice, DataSlice, ExportsSlice, GpuSlice, ModelSlice, NavSlice, PrefsSlice, Progress, RunsSlice, TrainingSlice } from './slices.ts';

export type StudioState = NavSlice & GpuSlice & ModelSlice & DataSlice & TrainingSlice & RunsSlice & CompareSlice & PrefsSlice & ExportsSlice;

export interface StudioDeps {
  engine: StudioEngine;
  /** Per-step metrics live here, outside React state. */
  series: SeriesStore;
  /** Web Locks; undefined where the API is missing. */
  locks?: LockManager;
  /** Coarse progress reaches the store at most this often (ms). */
  progressIntervalMs?: number;
  /** Saves adapter files; the browser download by default. */
  save?: (files: import('../../engine/types.ts').AdapterFiles, prefix: string) => Promise<string[]>;
  /** Where preference builds keep their progress; IndexedDB by default (memory where there is none). */
  prefsStore?: import('../../prefs/store.ts').PrefsStore;
}

export type SliceCreator<T> = (deps: StudioDeps) => StateCreator<StudioState, [], [], T>;

export type { Progress };

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
