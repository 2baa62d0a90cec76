// Which screen is showing.
import type { SliceCreator } from './types.ts';

export type Screen = 'start' | 'model' | 'data' | 'training' | 'run' | 'runs' | 'compare';

export interface NavSlice {
  screen: Screen;
  go(screen: Screen): void;
}

export const createNavSlice: SliceCreator<NavSlice> = () => (set) => ({
  screen: 'start',
  go: (screen) => set({ screen }),
});
