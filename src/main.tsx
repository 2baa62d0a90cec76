// Entry point: the engine (a worker in production), the stores, the React tree.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { StudioEngine } from './engine/types.ts';
import { App } from './ui/App.tsx';
import { SeriesStore } from './ui/lib/series.ts';
import { createStudioStore } from './ui/store/index.ts';
import { StudioProvider } from './ui/store/context.tsx';
import './ui/styles.css';

// The synthetic engine is for UI work without a GPU: `npm run dev` then ?engine=fake, or a build with
// VITE_FAKE_ENGINE=1 (the UI end-to-end test). Both imports are dynamic behind conditions the bundler folds
// to constants: a normal build carries no fake, and a fake build carries no worker.
const FAKE = import.meta.env.VITE_FAKE_ENGINE === '1' || (import.meta.env.DEV && new URLSearchParams(location.search).get('engine') === 'fake');

async function createEngine(): Promise<StudioEngine> {
  if (FAKE) {
    const { FakeEngine } = await import('../tests/ui/fake-engine.ts');
    return new FakeEngine({ stepMs: Number(new URLSearchParams(location.search).get('stepMs') ?? 60) });
  }
  const { createWorkerEngine } = await import('./workers/client.ts');
  return createWorkerEngine();
}

const engine = await createEngine();
const series = new SeriesStore();
const store = createStudioStore({ engine, series, locks: navigator.locks });
// Handy in devtools and for end-to-end tests that need to look inside.
(globalThis as unknown as { __studio?: unknown }).__studio = { store, series, engine };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StudioProvider store={store} series={series}>
      <App />
    </StudioProvider>
  </StrictMode>,
);
