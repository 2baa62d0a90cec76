// Stands in for src/ui/engine.ts in the UI end-to-end build (tests/e2e/helpers.ts swaps the module): the
// synthetic engine, its step time from the page's ?stepMs= (60 ms by default), its tokenization time from ?tokenizeMs= (0),
// its runs kept across reloads with ?persist.
import type { StudioEngine } from '../../src/engine/types.ts';
import { FakeEngine } from './fake-engine.ts';

export async function createEngine(): Promise<StudioEngine> {
  const q = new URLSearchParams(location.search);
  // ?persist: runs kept in localStorage across reloads (as the real engine's IndexedDB); ?resumeMs=: a resume's wait.
  return new FakeEngine({ stepMs: Number(q.get('stepMs') ?? 60), tokenizeMs: Number(q.get('tokenizeMs') ?? 0), storage: q.has('persist') ? localStorage : undefined, resumeMs: Number(q.get('resumeMs') ?? 0) });
}
