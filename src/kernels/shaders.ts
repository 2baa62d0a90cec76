// Every kernel's shader, by name: what scripts/print-wgsl.ts expands, and what a test compiles at its example
// defines. A new kernel adds its Shader here.
import type { Shader } from '../gpu/wgsl.ts';
import { adamwShader } from './adamw/adamw.ts';
import { attentionLoopShader, attentionTiledShader } from './attention/attention.gen.ts';
import { embeddingShader } from './embedding/embedding.ts';
import { gegluShader } from './geglu/geglu.ts';
import { headCombineShader, headPartShader } from './head/head.gen.ts';
import { loraShader } from './lora/lora.gen.ts';
import { matmulShader, matvecShader } from './matmul/matmul.ts';
import { quantizeShader } from './quant/quantize.ts';
import { reduceShader } from './reduce/reduce.ts';
import { rmsnormShader } from './rmsnorm/rmsnorm.ts';
import { scaleShader } from './scale/scale.ts';
import { ropeShader } from './rope/rope.ts';
import { swigluShader } from './swiglu/swiglu.ts';

export const SHADERS: readonly Shader<any>[] = [
  adamwShader, attentionLoopShader, attentionTiledShader, embeddingShader, gegluShader, headPartShader, headCombineShader,
  loraShader, matmulShader, matvecShader, quantizeShader, reduceShader, rmsnormShader, ropeShader, scaleShader, swigluShader,
];

export function findShader(name: string): Shader<any> {
  const s = SHADERS.find((x) => x.name === name);
  if (!s) throw new Error(`no kernel named "${name}"; kernels: ${SHADERS.map((x) => x.name).join(', ')}`);
  return s;
}
