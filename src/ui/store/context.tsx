// React access to the store and the series store.
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { SeriesStore } from '../lib/series.ts';
import type { StudioState, StudioStore } from './index.ts';

interface Ctx {
  store: StudioStore;
  series: SeriesStore;
}

const StudioContext = createContext<Ctx | null>(null);

export function StudioProvider({ store, series, children }: Ctx & { children: ReactNode }) {
  return <StudioContext.Provider value={{ store, series }}>{children}</StudioContext.Provider>;
}

function useCtx(): Ctx {
  const c = useContext(StudioContext);
  if (!c) throw new Error('StudioProvider is missing');
  return c;
}

export function useStudio<T>(selector: (s: StudioState) => T): T {
  return useStore(useCtx().store, selector);
}

export function useStudioStore(): StudioStore {
  return useCtx().store;
}

export function useSeries(): SeriesStore {
  return useCtx().series;
}
