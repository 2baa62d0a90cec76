// A whole `cli grads` command, timed as a user meets it: a child process from its start to its exit, with the
// model read from disk, the shaders compiled on a fresh device, the one step and the safetensors written. The
// model is #18's: a random 3-layer Llama (C 256, head_dim 64, V 32000, the demo's tokenizer) written by
// scripts/make-tiny-model.ts, and the data the demo's first 8 WMT22 pairs; the TF.js row of the same shapes
// (tfjs.bench.ts) is its baseline. tok/s counts what the command reports (two sequences per pair, as TF.js's row).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTinyModel } from '../scripts/make-tiny-model.ts';
import type { BenchCase } from './harness.ts';

const REPO = resolve(import.meta.dirname, '..');

/** Runs the CLI in a child process; resolves with its wall time and stderr, rejects on a non-zero exit. */
function runCli(args: string[]): Promise<{ ms: number; stderr: string }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-loader.mjs', 'src/cli/main.ts', ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) done({ ms, stderr });
      else fail(new Error(`cli ${args[0]} exited with ${code}:\n${stderr.slice(-2000)}`));
    });
  });
}

export function gradsCommandCase(shape: string): BenchCase {
  let dir: string | null = null;
  return {
    name: `cpo whole \`cli grads\` command ${shape} q4_0 r16 all-linear (8 demo pairs): process start to exit`,
    async run() {
      if (!dir) {
        dir = mkdtempSync(join(tmpdir(), 'cpo-bench-grads-'));
        writeTinyModel(join(dir, 'model'), { hidden: 256, layers: 3, heads: 4, kvHeads: 2, intermediate: 512 });
        const demo = readFileSync(join(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').slice(0, 8);
        writeFileSync(join(dir, 'pairs.jsonl'), `${demo.join('\n')}\n`);
      }
      const { ms, stderr } = await runCli(['grads', '--model', join(dir, 'model'), '--data', join(dir, 'pairs.jsonl'), '--out', join(dir, 'grads.safetensors')]);
      const m = /^grads: \d+ pairs, (\d+) tokens/m.exec(stderr);
      if (!m) throw new Error(`cli grads printed no token count:\n${stderr.slice(-2000)}`);
      return { ms, tokens: Number(m[1]) };
    },
    dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}
