import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/ui/lib/presets.ts';
import { isHubId, peftZip } from '../../src/ui/lib/peft-zip.ts';
import type { RunRecord } from '../../src/engine/types.ts';
import { readZip } from './zip-reader.ts';

const run = (modelName: string): RunRecord => ({
  id: 'run-1', name: 'quick try', status: 'finished', step: 6, totalSteps: 6, createdAt: 0, updatedAt: 0, config: presetConfig('Quick try'),
  modelName, modelFingerprint: 'f', datasetName: 'd.jsonl', datasetFingerprint: 'g',
});
const weights = Uint8Array.from({ length: 40 }, (_, i) => (i * 37) & 255);
const files = (base: string) => ({
  files: [
    { name: 'adapter_model.safetensors', bytes: weights },
    { name: 'adapter_config.json', bytes: new TextEncoder().encode(JSON.stringify({ peft_type: 'LORA', base_model_name_or_path: base, r: 8 })) },
  ],
});
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('PEFT zip', () => {
  it('holds one folder with the names PEFT reads, the weights unchanged and a README that loads it', () => {
    const z = peftZip(files('Qwen/Qwen2.5-0.5B-Instruct'), run('Qwen/Qwen2.5-0.5B-Instruct'), 'quick-try-adapter', 'Qwen/Qwen2.5-0.5B-Instruct');
    expect(z.name).toBe('quick-try-adapter.zip');
    const entries = readZip(z.bytes);
    expect([...entries.keys()].sort()).toEqual(['quick-try-adapter/README.md', 'quick-try-adapter/adapter_config.json', 'quick-try-adapter/adapter_model.safetensors']);
    expect(entries.get('quick-try-adapter/adapter_model.safetensors')).toEqual(weights);
    const cfg = JSON.parse(text(entries.get('quick-try-adapter/adapter_config.json')));
    expect(cfg).toEqual({ peft_type: 'LORA', base_model_name_or_path: 'Qwen/Qwen2.5-0.5B-Instruct', r: 8 });
    const readme = text(entries.get('quick-try-adapter/README.md'));
    expect(readme).toContain('from peft import AutoPeftModelForCausalLM\nmodel = AutoPeftModelForCausalLM.from_pretrained("quick-try-adapter")\n');
    expect(readme).toMatch(/downloaded from the Hugging Face Hub/);
  });

  it('writes the base the user typed, and says so when it is not a Hub id', () => {
    const z = peftZip(files('Tiny demo model'), run('Tiny demo model'), 'a', 'my-org/tiny');
    expect(JSON.parse(text(readZip(z.bytes).get('a/adapter_config.json'))).base_model_name_or_path).toBe('my-org/tiny');
    const local = readZip(peftZip(files('Tiny demo model'), run('Tiny demo model'), 'a', 'Tiny demo model').bytes);
    expect(text(local.get('a/README.md'))).toMatch(/"Tiny demo model", which is not a Hub id/);
    expect([isHubId('Qwen/Qwen2.5-0.5B'), isHubId('Tiny demo model'), isHubId('a/b/c')]).toEqual([true, false, false]);
  });

  it('refuses an export without the weights', () => {
    expect(() => peftZip({ files: [files('x').files[1]] }, run('x'), 'a', 'x')).toThrow(/lacks adapter_model.safetensors/);
  });
});
