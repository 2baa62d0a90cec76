// Spawns the CLI as users run it (`npm run cli` is this node command line) and collects its exit code and output.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, vi } from 'vitest';
import { REPO } from '../train/util.ts';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], onStderr?: (chunk: string, child: ChildProcess) => void): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-loader.mjs', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, child);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Collects what in-process commands print (console.log → out; console.error and stderr → err), fresh per test. */
export function captureOutput(): { out: string[]; err: string[] } {
  const io = { out: [] as string[], err: [] as string[] };
  beforeEach(() => {
    io.out.length = 0;
    io.err.length = 0;
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void io.out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void io.err.push(a.join(' ')));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (io.err.push(String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return io;
}
