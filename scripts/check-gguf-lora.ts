// Writes the golden adapter (../shared/golden) as a GGUF LoRA for scripts/check-gguf-lora.py to read with gguf-py.
// Usage: node --import tsx scripts/check-gguf-lora.ts OUT.gguf [F32|F16]
import { readFileSync, writeFileSync } from 'node:fs';
import { exportGgufLora } from '../src/io/gguf-lora.ts';
import { importPeftAdapter } from '../src/io/peft.ts';

const [out, dtype = 'F32'] = process.argv.slice(2);
const dir = '../shared/golden';
const config = JSON.parse(readFileSync(`${dir}/model/config.json`, 'utf8'));
const adapter = await importPeftAdapter({ config: readFileSync(`${dir}/adapter/adapter_config.json`, 'utf8'), weights: new Uint8Array(readFileSync(`${dir}/adapter/adapter_model.safetensors`)) }, config);
writeFileSync(out, exportGgufLora(adapter, config, { dtype: dtype as 'F32' | 'F16' }));
