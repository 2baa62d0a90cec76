// Which screen is showing.
import type { SliceCreator } from './types.ts';

export type Screen = 'start' | 'model' | 'data' | 'training' | 'run' | 'runs' | 'compare';

export const SCREENS: Screen[] = ['start', 'model', 'data', 'training', 'run', 'runs', 'compare'];

/** The screen a URL hash names ("#/runs"); null for none or an unknown one. */
export function screenOfHash(hash: string): Screen | null {
  const name = hash.replace(/^#\/?/, '');
  return (SCREENS as string[]).includes(name) ? (name as Screen) : null;
}

export const hashOf = (screen: Screen) => `#/${screen}`;

export interface NavSlice {
  screen: Screen;
  go(screen: Screen): void;
}

export const createNavSlice: SliceCreator<NavSlice> = () => (set) => ({
  screen: 'start',
  go: (screen) => set({ screen }),
});
