// The built command (`npm run build:cli` → dist-cli/cpo-studio.mjs, the package's bin) runs with plain node:
// no tsx, no WGSL loader — the shaders are inside the bundle.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../train/util.ts';

// Inside the repository, as dist-cli/ is: the bundle's packages (webgpu, hyparquet, …) resolve from node_modules.
mkdirSync(join(REPO, '.artifacts'), { recursive: true });
const dir = mkdtempSync(join(REPO, '.artifacts', 'cli-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = promisify(execFile);

describe('the built CLI', () => {
  it('is one ES module with the WGSL inlined that runs with plain node', async () => {
    const { build } = await import('vite');
    const outDir = join(dir, 'dist-cli');
    await build({ root: REPO, configFile: join(REPO, 'vite.cli.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    const bin = join(outDir, 'cpo-studio.mjs');
    const text = readFileSync(bin, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(text).not.toMatch(/(import|from)[^\n]*\.wgsl\?raw/); // only the bundler's file comments name them
    expect(text).toMatch(/@compute @workgroup_size/); // the kernels' WGSL, as strings
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).bin).toEqual({ 'cpo-studio': 'dist-cli/cpo-studio.mjs' });

    const help = await run(process.execPath, [bin, '--help'], { cwd: dir });
    expect(help.stdout).toMatch(/usage: cpo-studio <command>/);
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, '{"prompt":"a","chosen":"b","rejected":"c"}\n{"prompt":"a"}\n');
    const v = await run(process.execPath, [bin, 'validate', '--data', data, '--json'], { cwd: dir });
    expect(JSON.parse(v.stdout)).toMatchObject({ rows: 2, usable: 1, issues: [{ line: 2, field: 'chosen', reason: 'missing-field' }] });
    await expect(run(process.execPath, [bin, 'train', '--loss', 'kto'], { cwd: dir })).rejects.toMatchObject({ code: 2 });
  });
});
