// Entry point: the engine (a worker in production), the stores, the React tree.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App.tsx';
import { createEngine } from './ui/engine.ts';
import { SeriesStore } from './ui/lib/series.ts';
import { createStudioStore } from './ui/store/index.ts';
import { StudioProvider } from './ui/store/context.tsx';
import './ui/styles.css';

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
