// Builds the demo preference dataset (public/demo/) from the WMT22 system outputs in ../shared/data/wmt22.
// Rule: chosen = the human reference, rejected = ALMA-13B-LoRA's translation, on rows where they differ.
// Run: node --import tsx scripts/make-demo-dataset.ts
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReport } from '../src/data/index.ts';
import { readPreferenceFilePath } from '../src/data/node-file.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, '..', 'shared', 'data', 'wmt22');
const outDir = join(root, 'public', 'demo');
const PAIRS = ['de-en', 'en-de', 'cs-en', 'zh-en'];
const PER_PAIR = 80;
const MAX_CHARS = 300; // keeps prompts short for a browser demo and the file small

interface Wmt {
  id: string;
  lp: string;
  src: string;
  ref: string;
  alma13b_lora: string;
}

const out: string[] = [];
const seen = new Set<string>();
for (const lp of PAIRS) {
  const rows = readFileSync(join(srcDir, `${lp}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Wmt)
    .filter((r) => r.ref.trim() && r.alma13b_lora.trim() && r.ref.trim() !== r.alma13b_lora.trim())
    .filter((r) => r.src.length <= MAX_CHARS && r.ref.length <= MAX_CHARS && r.alma13b_lora.length <= MAX_CHARS)
    .filter((r) => !seen.has(r.src) && seen.add(r.src)); // the test sets repeat a few sources
  // Evenly spaced picks so every part of the test set (its domains come in blocks) is represented.
  const step = rows.length / PER_PAIR;
  for (let k = 0; k < PER_PAIR; k++) {
    const r = rows[Math.floor(k * step)];
    out.push(JSON.stringify({ id: r.id, lp: r.lp, source: r.src, chosen: r.ref, rejected: r.alma13b_lora }));
  }
}
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'wmt22-preference.jsonl');
writeFileSync(file, out.join('\n') + '\n');

const { report } = await readPreferenceFilePath(file);
console.log(formatReport(report));
if (report.rowsUsable !== out.length) throw new Error(`demo dataset has ${out.length - report.rowsUsable} unusable rows`);
