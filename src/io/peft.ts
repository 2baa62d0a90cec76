// PEFT LoRA adapters: adapter_config.json + adapter_model.safetensors, named as PEFT saves them
// (base_model.model.model.layers.{i}.{self_attn|mlp}.{module}.lora_{A|B}.weight; A (R, in), B (out, R)).
import { f32ToF16Bits } from '../util/f16.ts';
import { openSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from './safetensors.ts';
import { memorySource, type ByteSource } from './source.ts';
import { zipStore } from './zip.ts';
import { PROJECTIONS, type Projection } from '../model/projections.ts';

export const LORA_MODULES = PROJECTIONS;
export type LoraModule = Projection;

/** The dimensions an adapter must agree with: the fields of a Hugging Face config.json. */
export interface ModelDims {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
}

export interface LoraSettings {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: LoraModule[];
  /** Modules targeted by full paths (model.layers.N.…): the layers named, per module. */
  targetLayers?: Partial<Record<LoraModule, number[]>>;
  useRslora: boolean;
  baseModel: string;
}

export interface LoraPair {
  layer: number;
  module: LoraModule;
  inFeatures: number;
  outFeatures: number;
  A: Float32Array; // (R, in) f32
  B: Float32Array; // (out, R) f32
}

export interface LoraAdapter {
  settings: LoraSettings;
  /** One pair per (layer, target module), layer-major, modules in LORA_MODULES order. */
  pairs: LoraPair[];
}

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export function loraScale(s: Pick<LoraSettings, 'r' | 'alpha' | 'useRslora'>): number {
  return s.useRslora ? s.alpha / Math.sqrt(s.r) : s.alpha / s.r;
}

export function moduleShape(dims: ModelDims, module: LoraModule): { inFeatures: number; outFeatures: number } {
  const C = dims.hidden_size;
  const H = dims.num_attention_heads;
  const Hkv = dims.num_key_value_heads ?? H;
  const D = dims.head_dim ?? C / H;
  const F = dims.intermediate_size;
  switch (module) {
    case 'q_proj': return { inFeatures: C, outFeatures: H * D };
    case 'k_proj':
    case 'v_proj': return { inFeatures: C, outFeatures: Hkv * D };
    case 'o_proj': return { inFeatures: H * D, outFeatures: C };
    case 'gate_proj':
    case 'up_proj': return { inFeatures: C, outFeatures: F };
    case 'down_proj': return { inFeatures: F, outFeatures: C };
  }
}

export function peftTensorName(layer: number, module: LoraModule, which: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${isMlp(module) ? 'mlp' : 'self_attn'}.${module}.lora_${which}.weight`;
}

const isMlp = (m: string) => m === 'gate_proj' || m === 'up_proj' || m === 'down_proj';

export function adapterConfigJson(s: LoraSettings): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: s.baseModel,
    r: s.r,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    target_modules: [...s.targetModules],
    bias: 'none',
    use_rslora: s.useRslora,
    use_dora: false,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    revision: null,
  };
}

export interface ExportedAdapter {
  config: string;
  weights: Uint8Array;
  /** Both files in one STORE zip, for a single download. */
  zip(): Uint8Array;
}

export function exportPeftAdapter(adapter: LoraAdapter, opts: { dtype?: 'F32' | 'F16' } = {}): ExportedAdapter {
  const dtype = opts.dtype ?? 'F32';
  const { r } = adapter.settings;
  const tensors: TensorToWrite[] = [];
  const enc = (x: Float32Array) => (dtype === 'F32' ? x : Uint16Array.from(x, f32ToF16Bits));
  for (const p of adapter.pairs) {
    if (p.A.length !== r * p.inFeatures || p.B.length !== p.outFeatures * r) {
      throw new Error(`exportPeftAdapter: layer ${p.layer} ${p.module}: A has ${p.A.length} values, B ${p.B.length}; expected ${r}x${p.inFeatures} and ${p.outFeatures}x${r}`);
    }
    tensors.push({ name: peftTensorName(p.layer, p.module, 'A'), dtype, shape: [r, p.inFeatures], data: enc(p.A) });
    tensors.push({ name: peftTensorName(p.layer, p.module, 'B'), dtype, shape: [p.outFeatures, r], data: enc(p.B) });
  }
  const config = JSON.stringify(adapterConfigJson(adapter.settings), null, 2) + '\n';
  const weights = writeSafetensors(tensors, { format: 'pt' });
  return { config, weights, zip: () => zipStore([{ name: ADAPTER_CONFIG, data: config }, { name: ADAPTER_WEIGHTS, data: weights }]) };
}

const bad = (file: string, what: string, msg: string): never => {
  throw new Error(`${file}: ${what}: ${msg}`);
};

/** Validates adapter_config.json for what this engine can apply (plain LoRA on the seven projections). */
export function parseAdapterConfig(json: unknown, file = ADAPTER_CONFIG): LoraSettings {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad(file, 'config', 'not a JSON object');
  const c = json as Record<string, unknown>;
  if (c.peft_type !== 'LORA') bad(file, 'peft_type', `${JSON.stringify(c.peft_type)} is not "LORA"`);
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') bad(file, 'task_type', `${JSON.stringify(c.task_type)} is not "CAUSAL_LM"`);
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) return bad(file, 'r', `expected a positive integer, got ${JSON.stringify(r)}`);
  const alpha = c.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) return bad(file, 'lora_alpha', `expected a number, got ${JSON.stringify(alpha)}`);
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || dropout < 0 || dropout >= 1) return bad(file, 'lora_dropout', `expected a number in [0, 1), got ${JSON.stringify(dropout)}`);
  if ((c.bias ?? 'none') !== 'none') bad(file, 'bias', `${JSON.stringify(c.bias)} is not supported (only "none")`);
  if (c.fan_in_fan_out === true) bad(file, 'fan_in_fan_out', 'true is not supported (Conv1D-style weights)');
  if (c.use_dora === true) bad(file, 'use_dora', 'DoRA is not supported');
  if (c.modules_to_save != null && !(Array.isArray(c.modules_to_save) && c.modules_to_save.length === 0)) {
    bad(file, 'modules_to_save', `fully trained modules ${JSON.stringify(c.modules_to_save)} are not supported`);
  }
  for (const k of ['rank_pattern', 'alpha_pattern']) {
    const v = c[k];
    if (v != null && (typeof v !== 'object' || Object.keys(v as object).length > 0)) bad(file, k, 'per-module ranks or alphas are not supported');
  }
  if (c.layers_to_transform != null) bad(file, 'layers_to_transform', 'adapters on a subset of layers are not supported');
  const useRslora = c.use_rslora ?? false;
  if (typeof useRslora !== 'boolean') bad(file, 'use_rslora', `expected a boolean, got ${JSON.stringify(useRslora)}`);
  let targets = c.target_modules;
  if (targets === 'all-linear') targets = [...LORA_MODULES];
  if (!Array.isArray(targets) || targets.length === 0) return bad(file, 'target_modules', `expected a list of module names, got ${JSON.stringify(targets)}`);
  const layers = new Map<LoraModule, Set<number> | 'all'>();
  for (const t of targets) {
    const m = typeof t === 'string' ? TARGET_RE.exec(t) : null;
    const module = m?.[4] as LoraModule | undefined;
    const section = m?.[2] ?? m?.[3];
    if (!m || !LORA_MODULES.includes(module!) || (section !== undefined && (section === 'mlp') !== isMlp(module!))) {
      bad(file, 'target_modules', `${JSON.stringify(t)} is not supported (${LORA_MODULES.join(', ')}, or their module paths such as model.layers.0.self_attn.q_proj)`);
    }
    if (m![1] === undefined) layers.set(module!, 'all');
    else {
      const prev = layers.get(module!) ?? new Set<number>();
      if (prev !== 'all') layers.set(module!, prev.add(Number(m![1])));
    }
  }
  const targetModules = LORA_MODULES.filter((m) => layers.has(m));
  const targetLayers: LoraSettings['targetLayers'] = {};
  for (const [m, l] of layers) if (l !== 'all') targetLayers[m] = [...l].sort((a, b) => a - b);
  const base = c.base_model_name_or_path;
  const out: LoraSettings = { r, alpha, dropout, targetModules, useRslora: useRslora as boolean, baseModel: typeof base === 'string' ? base : '' };
  if (Object.keys(targetLayers).length > 0) out.targetLayers = targetLayers;
  return out;
}

// PEFT matches a list entry against a module name by equality or as a dot-separated suffix, so
// model.layers.0.self_attn.q_proj, layers.0.self_attn.q_proj, self_attn.q_proj and q_proj all name modules
// (PEFT 0.21 writes all-linear as the full paths when fewer than 20 modules match).
const TARGET_RE = /^(?:(?:(?:model\.)?layers\.)?(\d+)\.(self_attn|mlp)\.|(self_attn|mlp)\.)?([a-z_]+)$/;

/** Refuses targets that cover some layers of a module but not all (the engine adapts every layer alike). */
function checkTargetLayers(file: string, s: LoraSettings, L: number): void {
  for (const [module, ls] of Object.entries(s.targetLayers ?? {})) {
    const missing = [...Array(L).keys()].filter((l) => !ls.includes(l));
    const extra = ls.filter((l) => l >= L);
    if (extra.length) bad(file, 'target_modules', `model.layers.${extra[0]}.${isMlp(module as LoraModule) ? 'mlp' : 'self_attn'}.${module} does not exist (model has ${L} layers)`);
    if (missing.length) bad(file, 'target_modules', `${module} is targeted in layers ${ls.join(', ')} but not ${missing.join(', ')}: adapters on a subset of layers are not supported`);
  }
}

const NAME_RE = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)\.lora_(A|B)(?:\.default)?\.weight$/;

/**
 * Reads a PEFT adapter and checks every tensor against the model: names, layers, which modules are present,
 * shapes (A (r, in), B (out, r)), dtypes. Errors name the file and the tensor.
 */
export async function importPeftAdapter(files: { config: string | object; weights: ByteSource | Uint8Array }, model: ModelDims): Promise<LoraAdapter> {
  const configJson = typeof files.config === 'string' ? parseJson(files.config, ADAPTER_CONFIG) : files.config;
  const settings = parseAdapterConfig(configJson);
  const src = files.weights instanceof Uint8Array ? memorySource(files.weights, ADAPTER_WEIGHTS) : files.weights;
  const st = await openSafetensors(src);
  const file = src.name;
  const L = model.num_hidden_layers;
  checkTargetLayers(ADAPTER_CONFIG, settings, L);
  const found = new Map<string, { A?: Float32Array; B?: Float32Array }>();
  for (const info of st.tensors.values()) {
    const what = `tensor ${JSON.stringify(info.name)}`;
    const m = NAME_RE.exec(info.name) ?? bad(file, what, 'not a LoRA weight of a supported module (expected base_model.model.model.layers.N.<self_attn|mlp>.<proj>.lora_<A|B>.weight)');
    const layer = Number(m[1]);
    const module = m[3] as LoraModule;
    if (!LORA_MODULES.includes(module)) bad(file, what, `module ${module} is not supported`);
    if ((m[2] === 'mlp') !== isMlp(module)) bad(file, what, `${module} is not under ${m[2]}`);
    if (layer >= L) bad(file, what, `layer ${layer} does not exist (model has ${L})`);
    if (!settings.targetModules.includes(module)) bad(file, what, `${module} is not in target_modules of ${ADAPTER_CONFIG}`);
    if (!['F32', 'F16', 'BF16', 'F64'].includes(info.dtype)) bad(file, what, `dtype ${info.dtype} is not a float type`);
    const { inFeatures, outFeatures } = moduleShape(model, module);
    const want = m[4] === 'A' ? [settings.r, inFeatures] : [outFeatures, settings.r];
    if (info.shape.length !== 2 || info.shape[0] !== want[0] || info.shape[1] !== want[1]) {
      bad(file, what, `shape ${JSON.stringify(info.shape)}, expected ${JSON.stringify(want)} (r ${settings.r} from ${ADAPTER_CONFIG})`);
    }
    const key = `${layer}.${module}`;
    const entry = found.get(key) ?? {};
    entry[m[4] as 'A' | 'B'] = toFloat32(info, await st.read(info.name));
    found.set(key, entry);
  }
  const pairs: LoraPair[] = [];
  for (let layer = 0; layer < L; layer++) {
    for (const module of settings.targetModules) {
      const e = found.get(`${layer}.${module}`);
      if (!e?.A || !e?.B) bad(file, `tensor ${JSON.stringify(peftTensorName(layer, module, e?.A ? 'B' : 'A'))}`, 'missing');
      pairs.push({ layer, module, ...moduleShape(model, module), A: e!.A!, B: e!.B! });
    }
  }
  return { settings, pairs };
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return bad(file, 'config', `invalid JSON (${(e as Error).message})`);
  }
}
