// onnxruntime-web in Node under vitest, with no network: the wasm backend, one thread (2 cores are shared),
// and the runtime's .mjs glue and .wasm binary taken from node_modules/onnxruntime-web/dist.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';

let ready = false;

export function nodeOrt(): typeof ort {
  if (!ready) {
    // Resolve the package's own folder rather than guessing a relative path from this file.
    const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = {
      mjs: pathToFileURL(resolve(dist, 'ort-wasm-simd-threaded.mjs')).href,
      wasm: pathToFileURL(resolve(dist, 'ort-wasm-simd-threaded.wasm')).href,
    };
    ready = true;
  }
  return ort;
}
