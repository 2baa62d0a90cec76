// What WebGPU the browser offers. The engine worker is asked first (it is where training runs); if it
// cannot answer, the page probes for itself so the Start screen still says something useful.
import { probeWebGpu } from '../lib/webgpu.ts';
import { errorMessage, type SliceCreator } from './types.ts';
import type { GpuSlice } from './slices.ts';

export type { GpuSlice };

const ENGINE_TIMEOUT_MS = 15_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

export const createGpuSlice: SliceCreator<GpuSlice> = (deps) => (set) => ({
  gpu: null,
  gpuStatus: 'idle',
  gpuEngineNote: null,
  deviceMemoryGiB: (globalThis.navigator as (Navigator & { deviceMemory?: number }) | undefined)?.deviceMemory,
  async checkGpu() {
    set({ gpuStatus: 'checking' });
    try {
      const gpu = await withTimeout(deps.engine.gpuInfo(), ENGINE_TIMEOUT_MS, 'The engine worker');
      set({ gpu, gpuStatus: 'done', gpuEngineNote: null });
    } catch (e) {
      const gpu = await probeWebGpu();
      set({ gpu, gpuStatus: 'done', gpuEngineNote: `Probed on the page: the engine worker did not answer (${errorMessage(e)}).` });
    }
  },
});
