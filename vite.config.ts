/// <reference types="vitest/config" />
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const ENGINE_WORKER = fileURLToPath(new URL('./src/workers/engine.worker.ts', import.meta.url));

// Until src/workers/engine.worker.ts exists, build a worker that refuses every request, so the app builds,
// loads and shows its own WebGPU probe. Inert as soon as the real file is there.
function engineWorkerPlaceholder(): Plugin {
  const missing = () => !existsSync(ENGINE_WORKER);
  return {
    name: 'cpo:engine-worker-placeholder',
    resolveId(id) {
      return id.replace(/\\/g, '/') === ENGINE_WORKER.replace(/\\/g, '/') && missing() ? ENGINE_WORKER : null;
    },
    load(id) {
      if (id !== ENGINE_WORKER || !missing()) return null;
      return `self.onmessage = (e) => self.postMessage({ id: e.data.id, type: 'throw',
        error: { name: 'NotImplemented', message: 'not implemented: this build has no engine worker (src/workers/engine.worker.ts)' } });`;
    },
  };
}

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es', plugins: () => [engineWorkerPlaceholder()] },
  build: { target: 'es2022', outDir: 'dist' },
  server: {
    host: '127.0.0.1',
    // The same isolation headers as `vite preview` (npm start) sends, so dev behaves like the served build.
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  preview: {
    host: '127.0.0.1',
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // dawn.node is a native addon: one process per test file keeps a wedged device from taking others down.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 10_000,
  },
});
