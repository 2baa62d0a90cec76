// TF.js's gradient functions are registered by the `@tensorflow/tfjs` union package, not by tfjs-core's Node
// bundle (which only holds the engine and the ops). tfjs-core ships them as ES modules with extensionless
// relative imports in a package without "type": "module", which Node cannot load as is. These hooks load
// that ESM tree (resolving './x' to './x.js', else './x/index.js'), and importing register_all_gradients.js
// fills the gradient registry, which tfjs-core keeps in a process-wide global shared by both copies of the
// library (as it does the engine, so the two copies' tensors are interchangeable).
import { register } from 'node:module';

let done: Promise<unknown> | null = null;

export function registerAllGradients(): Promise<unknown> {
  if (done) return done;
  register(
    'data:text/javascript,' +
      encodeURIComponent(`
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
const inCore = (u) => !!u && u.includes('/@tensorflow/tfjs-core/dist/') && !u.endsWith('/tf-core.node.js');
export async function resolve(specifier, context, next) {
  if (inCore(context.parentURL) && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    const base = new URL(specifier, context.parentURL);
    const file = new URL(base.href + '.js');
    const url = existsSync(fileURLToPath(file)) ? file : new URL(base.href + '/index.js');
    return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (inCore(url) && url.endsWith('.js')) {
    return { format: 'module', source: await readFile(new URL(url), 'utf8'), shortCircuit: true };
  }
  return next(url, context);
}
`),
    import.meta.url,
  );
  const entry = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
  done = import(/* @vite-ignore */ entry);
  return done;
}
