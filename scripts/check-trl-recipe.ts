// Writes the TRL recipes scripts/check-trl-recipe.sh runs: a CPO (sigmoid) run and a DPO run with an NLL term,
// two optimizer steps each, on a few demo pairs. Usage: node --import tsx scripts/check-trl-recipe.ts OUT_DIR MODEL
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreferenceRow } from '../src/data/types.ts';
import { presetConfig } from '../src/train/presets.ts';
import { buildRecipe } from '../src/train/recipe.ts';

const [out, model] = process.argv.slice(2);
if (!out || !model) throw new Error('usage: check-trl-recipe.ts OUT_DIR MODEL');
const rows: PreferenceRow[] = readFileSync('public/demo/wmt22-preference.jsonl', 'utf8').trim().split('\n').slice(0, 6).map((l, i) => {
  const r = JSON.parse(l) as { source: string; chosen: string; rejected: string };
  return { kind: 'text', prompt: `Translate this from German to English:\nGerman: ${r.source}\nEnglish:`, chosen: ` ${r.chosen}`, rejected: ` ${r.rejected}`, line: i + 1, row: i + 1 };
});
const small = { maxSteps: 2, batchSize: 2, gradAccum: 1, r: 4, alpha: 8, maxLength: 128, maxPromptLength: 64, warmupRatio: 0.1 };
for (const [dir, cfg] of [
  ['cpo sigmoid', presetConfig('alma-r', { ...small, name: "CPO run's check" })],
  ['dpo with nll', presetConfig('quick', { ...small, name: 'DPO + NLL check', loss: 'dpo', cpoAlpha: 0.5, schedule: 'constant' })],
] as const) {
  const d = join(out, dir);
  mkdirSync(d, { recursive: true });
  for (const f of buildRecipe(cfg, model, rows.slice(0, 4), rows.slice(4))) writeFileSync(join(d, f.name), f.text);
}
