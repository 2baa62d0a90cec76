// The engine the studio talks to: the worker client, which runs the engine beside the page in a web worker.
// The UI end-to-end build swaps this one module for the synthetic engine (tests/e2e/helpers.ts, a Vite plugin
// used only by that build), so no production file names a test file and a normal build carries no fake.
import type { StudioEngine } from '../engine/types.ts';
import { createWorkerEngine } from '../workers/client.ts';

export async function createEngine(): Promise<StudioEngine> {
  return createWorkerEngine();
}
