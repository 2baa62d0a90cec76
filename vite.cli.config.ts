// The command line as one Node ES module (dist-cli/cpo-studio.mjs, the package's `bin`): Vite's SSR build
// bundles src/ — the WGSL `?raw` imports become strings, as in the app — and leaves node_modules external,
// so `cpo-studio …` runs with plain node, without tsx or the WGSL loader.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false, // the app's public/ (demo model, data) is not part of the command
  build: {
    ssr: 'src/cli/main.ts',
    outDir: 'dist-cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    rollupOptions: { output: { entryFileNames: 'cpo-studio.mjs', banner: '#!/usr/bin/env node' } },
  },
});
