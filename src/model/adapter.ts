// Bridges the GPU LoRA (lora.ts) and PEFT adapter files (io/peft.ts): import to continue training or compare,
// export for PEFT, vLLM and llama.cpp.
import type { GpuContext } from '../gpu/context.ts';
import { exportPeftAdapter, peftTensorName, type ExportedAdapter, type LoraAdapter } from '../io/peft.ts';
import { assertFiniteF32 } from './finite.ts';
import type { Projection } from './config.ts';
import { loraModules, peftName, type Lora, type LoraConfig } from './lora.ts';

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

export async function exportLora(ctx: GpuContext, lora: Lora, baseModel: string, dtype: 'F32' | 'F16'): Promise<ExportedAdapter> {
  const pairs: LoraAdapter['pairs'] = [];
  for (const m of loraModules(lora)) {
    pairs.push({
      layer: m.layer,
      module: m.proj,
      inFeatures: m.K,
      outFeatures: m.N,
      A: await ctx.readF32(m.A, lora.R * m.K),
      B: await ctx.readF32(m.B, m.N * lora.R),
    });
  }
  const c = lora.cfg;
  return exportPeftAdapter(
    { settings: { r: c.r, alpha: c.alpha, dropout: c.dropout, targetModules: lora.targets, useRslora: c.useRslora, baseModel }, pairs },
    { dtype },
  );
}
