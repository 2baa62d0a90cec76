/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  // Screens are hash routes, so no path needs index.html as a fallback: a missing file (a model's config.json,
  // a shard) answers 404 instead of 200 with the page's HTML, which a loader would then try to parse.
  appType: 'mpa',
  worker: { format: 'es' },
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
