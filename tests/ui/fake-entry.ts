// Stands in for src/ui/engine.ts in the UI end-to-end build (tests/e2e/helpers.ts swaps the module): the
// synthetic engine, its step time from the page's ?stepMs= (60 ms by default).
import type { StudioEngine } from '../../src/engine/types.ts';
import { FakeEngine } from './fake-engine.ts';

export async function createEngine(): Promise<StudioEngine> {
  return new FakeEngine({ stepMs: Number(new URLSearchParams(location.search).get('stepMs') ?? 60) });
}
