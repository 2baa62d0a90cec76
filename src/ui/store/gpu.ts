// What WebGPU the browser offers. The engine worker is asked first (it is where training runs); if it
// cannot answer, the page probes for itself so the Start screen still says something useful.
import type { GpuInfo } from '../../engine/types.ts';
import { probeWebGpu } from '../lib/webgpu.ts';
import { errorMessage, type SliceCreator } from './types.ts';

export interface GpuSlice {
  gpu: GpuInfo | null;
  gpuStatus: 'idle' | 'checking' | 'done';
  /** Set when the answer came from the page's own probe, with why the engine did not answer. */
  gpuEngineNote: string | null;
  deviceMemoryGiB: number | undefined;
  checkGpu(): Promise<void>;
}

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
