// Which screen is showing.
import type { SliceCreator } from './types.ts';
import type { Screen, NavSlice } from './slices.ts';

export type { Screen, NavSlice };

export const SCREENS: Screen[] = ['start', 'model', 'data', 'training', 'run', 'runs', 'compare'];

/** The screen a URL hash names ("#/runs"); null for none or an unknown one. */
export function screenOfHash(hash: string): Screen | null {
  const name = hash.replace(/^#\/?/, '');
  return (SCREENS as string[]).includes(name) ? (name as Screen) : null;
}

export const hashOf = (screen: Screen) => `#/${screen}`;

export const createNavSlice: SliceCreator<NavSlice> = () => (set) => ({
  screen: 'start',
  go: (screen) => set({ screen }),
});
