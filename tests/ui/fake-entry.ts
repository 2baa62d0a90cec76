// Stands in for src/ui/engine.ts in the UI end-to-end build (tests/e2e/helpers.ts swaps the module): the
// synthetic engine, its step time from the page's ?stepMs= (60 ms by default), its tokenization time from ?tokenizeMs= (0).
import type { StudioEngine } from '../../src/engine/types.ts';
import { FakeEngine } from './fake-engine.ts';

export async function createEngine(): Promise<StudioEngine> {
  const q = new URLSearchParams(location.search);
  return new FakeEngine({ stepMs: Number(q.get('stepMs') ?? 60), tokenizeMs: Number(q.get('tokenizeMs') ?? 0) });
}
