// Bridges the GPU LoRA (lora.ts) and PEFT adapter files (io/peft.ts): import to continue training or compare,
// export for PEFT, vLLM and llama.cpp.
import type { GpuContext } from '../gpu/context.ts';
import { exportPeftAdapter, peftTensorName, type ExportedAdapter, type LoraAdapter, type LoraSettings } from '../io/peft.ts';
import { assertFiniteF32 } from './finite.ts';
import type { Projection } from './config.ts';
import { PROJECTIONS } from './projections.ts';
import { peftName, readLora, type Lora, type LoraConfig } from './lora.ts';

export function adapterInit(a: LoraAdapter, source = 'adapter_model.safetensors'): { config: LoraConfig; init: Map<string, Float32Array> } {
  const init = new Map<string, Float32Array>();
  for (const p of a.pairs) {
    assertFiniteF32(p.A, [a.settings.r, p.inFeatures], `${source}: tensor ${peftTensorName(p.layer, p.module, 'A')}`);
    assertFiniteF32(p.B, [p.outFeatures, a.settings.r], `${source}: tensor ${peftTensorName(p.layer, p.module, 'B')}`);
    init.set(peftName(p.layer, p.module, 'lora_A'), p.A);
    init.set(peftName(p.layer, p.module, 'lora_B'), p.B);
  }
  const s = a.settings;
  return { config: { r: s.r, alpha: s.alpha, dropout: s.dropout, targets: s.targetModules as Projection[], useRslora: s.useRslora }, init };
}

/**
 * The inverse of adapterInit: PEFT-named lora_A / lora_B tensors (a checkpoint's, or a GPU LoRA's read back) as
 * an adapter, layer-major, modules in PROJECTIONS order. Other tensors (AdamW moments) are ignored.
 */
export function adapterFromTensors(tensors: Map<string, Float32Array>, settings: Omit<LoraSettings, 'targetModules'>): LoraAdapter {
  const targets = PROJECTIONS.filter((p) => tensors.has(peftName(0, p, 'lora_A')));
  if (targets.length === 0) throw new Error('the adapter has no lora_A / lora_B tensors');
  const pairs: LoraAdapter['pairs'] = [];
  for (let layer = 0; targets.some((p) => tensors.has(peftName(layer, p, 'lora_A'))); layer++) {
    for (const module of targets) {
      const A = tensors.get(peftName(layer, module, 'lora_A')); // (R, in) f32
      const B = tensors.get(peftName(layer, module, 'lora_B')); // (out, R) f32
      if (!A || !B) throw new Error(`the adapter has no ${!A ? peftName(layer, module, 'lora_A') : peftName(layer, module, 'lora_B')}`);
      pairs.push({ layer, module, inFeatures: A.length / settings.r, outFeatures: B.length / settings.r, A, B });
    }
  }
  return { settings: { ...settings, targetModules: targets }, pairs };
}

export async function exportLora(ctx: GpuContext, lora: Lora, baseModel: string, dtype: 'F32' | 'F16'): Promise<ExportedAdapter> {
  const tensors = await readLora(ctx, lora, 'weights');
  const c = lora.cfg;
  return exportPeftAdapter(adapterFromTensors(tensors, { r: c.r, alpha: c.alpha, dropout: c.dropout, useRslora: c.useRslora, baseModel }), { dtype });
}
