// `npm run cli -- <command> …`: the engine without a browser, on whatever WebGPU adapter Node finds.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evalCommand } from './eval.ts';
import { logpsCommand } from './logps.ts';
import { scoreCommand } from './score.ts';
import { trainCommand } from './train.ts';
import { translateCommand } from './translate.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  logps: { run: (a) => logpsCommand(a, 'logps'), help: 'log-probs, loss and metrics of a preference file, as JSON' },
  grads: { run: (a) => logpsCommand(a, 'grads'), help: 'LoRA gradients of a preference file, as safetensors' },
  train: { run: trainCommand, help: 'train a LoRA adapter with CPO and write it as a PEFT folder' },
  translate: { run: translateCommand, help: 'translate a file line by line with the ALMA prompt (KV-cache decoding)' },
  eval: { run: evalCommand, help: 'base model vs adapter on held-out sources: chrF2, chrF++, BLEU side by side' },
  score: { run: scoreCommand, help: 'chrF2, chrF++ and BLEU of line-aligned hypothesis and reference files' },
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === 'help' || !COMMANDS[cmd]) {
    if (cmd && !COMMANDS[cmd] && cmd !== '--help' && cmd !== 'help') console.error(`unknown command ${JSON.stringify(cmd)}\n`);
    console.error('usage: npm run cli -- <command> [options]   (each command takes --help)\n');
    for (const [k, c] of Object.entries(COMMANDS)) console.error(`  ${k.padEnd(8)} ${c.help}`);
    return cmd && !COMMANDS[cmd] && cmd !== '--help' && cmd !== 'help' ? 2 : 0;
  }
  return COMMANDS[cmd].run(rest);
}

/** The CLI in-process, as `npm run cli` runs it: the exit code, with errors printed as the process prints them. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.CPO_DEBUG) console.error(e);
    return 1;
  }
}

// Run only as the entry point (tests import runCli).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
