// `cpo-studio <command> …` (or `npm run cli -- <command> …`): the engine without a browser, on whatever WebGPU
// adapter Node finds. Exit codes: 0 done, 1 failed (the message names the file, line or field), 2 usage error,
// 130 interrupted by Ctrl-C after a clean checkpoint (train).
import { buildPrefsCommand } from './build-prefs.ts';
import { evalCommand } from './eval.ts';
import { exportCommand } from './export.ts';
import { logpsCommand } from './logps.ts';
import { scoreCommand } from './score.ts';
import { trainCommand } from './train.ts';
import { translateCommand } from './translate.ts';
import { validateCommand } from './validate.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  validate: { run: validateCommand, help: 'check a preference file without a model: rows usable, rows set aside and why, lengths' },
  logps: { run: logpsCommand('logps'), help: 'log-probs, loss and metrics of a preference file, as JSON' },
  grads: { run: logpsCommand('grads'), help: 'LoRA gradients of a preference file, as safetensors' },
  train: { run: trainCommand, help: 'train a LoRA adapter with CPO and write it as a PEFT folder' },
  translate: { run: translateCommand, help: 'translate a file line by line with the ALMA prompt (KV-cache decoding)' },
  eval: { run: evalCommand, help: 'base model vs adapter on held-out sources: chrF2, chrF++, BLEU side by side' },
  export: { run: exportCommand, help: 'an adapter as PEFT (folder or .zip), GGUF (llama.cpp, Ollama) or ONNX (transformers.js)' },
  score: { run: scoreCommand, help: 'chrF2, chrF++ and BLEU of line-aligned hypothesis and reference files' },
  'build-prefs': { run: buildPrefsCommand, help: 'preference triplets from parallel text: model candidates scored against the reference (ALMA-R)' },
};

function usage(): string {
  const lines = ['usage: cpo-studio <command> [options]   (each command takes -h / --help)', ''];
  for (const [k, c] of Object.entries(COMMANDS)) lines.push(`  ${k.padEnd(9)} ${c.help}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    console.log(usage());
    return 0;
  }
  const c = cmd === undefined ? undefined : COMMANDS[cmd];
  if (!c) {
    console.error(`${cmd === undefined ? 'no command given' : `unknown command ${JSON.stringify(cmd)}`}\n\n${usage()}`);
    return 2;
  }
  return c.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.CPO_DEBUG) console.error(e);
    process.exit(1);
  },
);
