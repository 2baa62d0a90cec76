// Prints a kernel's expanded WGSL, as the GPU compiles it, for given defines:
//   npm run print-wgsl                                  (lists the kernels, their defines and an example)
//   npm run print-wgsl -- attention_loop                (the example defines)
//   npm run print-wgsl -- attention_loop KERNEL=DKDV D=128 KPI=2
// Defines not given keep the example's values; `true`/`false` and numbers are parsed as such.
import { shaderKey } from '../src/gpu/wgsl.ts';
import { findShader, SHADERS } from '../src/kernels/shaders.ts';

const [name, ...args] = process.argv.slice(2);
if (!name || name === '-h' || name === '--help') {
  for (const s of SHADERS) console.log(`${s.name}\n  ${s.doc}\n  e.g. ${shaderKey(s.name, s.example)}\n`);
  process.exit(0);
}
let shader;
try {
  shader = findShader(name);
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const defines: Record<string, string | number | boolean> = { ...shader.example };
for (const a of args) {
  const m = /^(\w+)=(.*)$/.exec(a);
  if (!m) {
    console.error(`print-wgsl: expected NAME=VALUE, got "${a}"`);
    process.exit(2);
  }
  const [, k, v] = m;
  if (!(k in shader.example)) {
    console.error(`print-wgsl: ${shader.name} has no define ${k} (it has ${Object.keys(shader.example).join(', ')})`);
    process.exit(2);
  }
  defines[k] = v === 'true' ? true : v === 'false' ? false : v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
}
console.log(`// ${shaderKey(shader.name, defines)}`);
console.log(shader.build(defines));
