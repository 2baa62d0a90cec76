// The combined studio state and what every slice creator receives.
import type { StateCreator } from 'zustand';
import type { StudioEngine } from '../../engine/types.ts';
import type { SeriesStore } from '../lib/series.ts';
import type { GpuSlice } from './gpu.ts';
import type { ModelSlice } from './model.ts';
import type { DataSlice } from './data.ts';
import type { TrainingSlice } from './training.ts';
import type { RunsSlice } from './runs.ts';
import type { CompareSlice } from './compare.ts';
import type { NavSlice } from './nav.ts';
import type { PrefsSlice } from './prefs.ts';

export type StudioState = NavSlice & GpuSlice & ModelSlice & DataSlice & TrainingSlice & RunsSlice & CompareSlice & PrefsSlice;

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

export interface Progress {
  loaded: number;
  total: number;
  what: string;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
