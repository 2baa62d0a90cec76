// The adapter as one download: a zip holding one PEFT folder, with the exact names PEFT looks for
// (adapter_config.json, adapter_model.safetensors) and a README with the two lines of Python that load it.
// Saving the two files separately gave them a run prefix PEFT does not read, and Chrome asked permission
// for the second download.
import type { AdapterFiles, RunRecord } from '../../engine/types.ts';
import { zipStore } from '../../io/zip.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** "owner/name": what the Hub and PEFT's base_model_name_or_path accept as a model id. */
export function isHubId(s: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(s.trim());
}

function readme(run: RunRecord, folder: string, baseModel: string): string {
  const c = run.config;
  const targets = c.targets === 'all-linear' ? 'all linear layers' : c.targets.join(', ');
  const hub = isHubId(baseModel);
  return [
    `# ${run.name}: a LoRA adapter for ${baseModel}`,
    '',
    `Trained in CPO Studio on ${run.datasetName}: ${run.step} of ${run.totalSteps} steps, loss \`${c.loss}\`, LoRA r ${c.r}, alpha ${c.alpha} on ${targets}, base weights as ${c.quant === 'none' ? 'f32' : c.quant}.`,
    '',
    'Load it with PEFT (unzip, then run this next to the folder):',
    '',
    '```python',
    'from peft import AutoPeftModelForCausalLM',
    `model = AutoPeftModelForCausalLM.from_pretrained("${folder}")`,
    '```',
    '',
    hub
      ? `The base model, ${baseModel}, is downloaded from the Hugging Face Hub (\`base_model_name_or_path\` in ${ADAPTER_CONFIG}).`
      : `\`base_model_name_or_path\` in ${ADAPTER_CONFIG} is "${baseModel}", which is not a Hub id: set it to the base model's Hub id or local folder before loading.`,
    '',
  ].join('\n');
}

/**
 * One zip of a PEFT folder named `folder`, from the engine's exported files. `baseModel` replaces
 * base_model_name_or_path in the config (the Hub id when the model came from the Hub; what the user typed otherwise).
 */
export function peftZip(files: AdapterFiles, run: RunRecord, folder: string, baseModel: string): { name: string; bytes: Uint8Array } {
  const byName = new Map(files.files.map((f) => [f.name, f.bytes]));
  const config = byName.get(ADAPTER_CONFIG);
  const weights = byName.get(ADAPTER_WEIGHTS);
  if (!config || !weights) throw new Error(`the engine's export lacks ${!config ? ADAPTER_CONFIG : ADAPTER_WEIGHTS} (it gave ${[...byName.keys()].join(', ') || 'nothing'})`);
  const json = JSON.parse(new TextDecoder().decode(config)) as Record<string, unknown>;
  json.base_model_name_or_path = baseModel;
  return {
    name: `${folder}.zip`,
    bytes: zipStore([
      { name: `${folder}/${ADAPTER_CONFIG}`, data: JSON.stringify(json, null, 2) + '\n' },
      { name: `${folder}/${ADAPTER_WEIGHTS}`, data: weights },
      { name: `${folder}/README.md`, data: readme(run, folder, baseModel) },
    ]),
  };
}
