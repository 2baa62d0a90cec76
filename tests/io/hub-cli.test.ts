// The CLI with Hub ids and hf://datasets/… against the local Hub-shaped server (HF_ENDPOINT), the Python HF
// cache in a temp HF_HOME: `validate --data hf://…` and `logps --model OWNER/NAME --data hf://…`, progress on
// stderr, and the second run served from the cache.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeParquet } from '../data/parquet-writer.ts';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.ts';
import { REPO } from '../train/util.ts';

const run = promisify(execFile);
const TINY = join(REPO, 'public/models/tiny');
const rows = [
  { prompt: 'Translate this from German to English:\nGerman: Guten Morgen\nEnglish:', chosen: ' Good morning', rejected: ' Good evening' },
  { prompt: 'Q: 2+2?\nA:', chosen: ' 4', rejected: ' five' },
  { prompt: 'Q: 3+3?\nA:', chosen: ' 6', rejected: ' 6' },
];
const cols = ['prompt', 'chosen', 'rejected'].map((name) => ({ name, type: 'string' as const }));

let hub: FakeHub;
let home: string;
beforeAll(async () => {
  const tiny = Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(join(TINY, f)))]));
  hub = await startFakeHub({
    'test/tiny': { revisions: { main: tiny } },
    'test/prefs': { type: 'dataset', revisions: { 'refs/convert/parquet': { 'default/train/0000.parquet': writeParquet(cols, rows, { codec: 'snappy' }) } } },
  });
  home = mkdtempSync(join(tmpdir(), 'hub-cli-'));
});
afterAll(async () => {
  await hub.stop();
  rmSync(home, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-loader.mjs', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, HF_HOME: home, HF_ENDPOINT: hub.url, HF_HUB_CACHE: '', HF_TOKEN: '', HF_HUB_OFFLINE: '' },
  });
}

describe('cli with the Hub', () => {
  it('validate --data hf://datasets/OWNER/NAME reads the Parquet conversion, then from the cache', async () => {
    const r = await cli('validate', '--data', 'hf://datasets/test/prefs', '--json');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ file: 'hf://datasets/test/prefs/default/train', container: 'parquet', format: 'trl', rows: 3, usable: 2, setAside: 1 });
    expect(j.issues.map((i: { row: number; reason: string }) => [i.row, i.reason])).toEqual([[3, 'identical-pair']]);
    expect(r.stderr).toMatch(/download/);
    const n = hub.requests.length;
    const again = await cli('validate', '--data', 'hf://datasets/test/prefs/default/train', '--json');
    expect(JSON.parse(again.stdout).usable).toBe(2);
    expect(hub.requests.slice(n).filter((q) => !q.path.startsWith('/api/'))).toEqual([]);
    await expect(cli('validate', '--data', 'hf://datasets/test/prefs/default/test')).rejects.toThrow(/no split "test" in config default; the dataset has default\/train/);
  }, 240_000);

  it('logps --model OWNER/NAME downloads the model into the HF cache layout and scores hf:// data', async () => {
    const out = join(home, 'out.json');
    const r = await cli('logps', '--model', 'test/tiny', '--data', 'hf://datasets/test/prefs', '--quant', 'none', '--out', out);
    expect(r.stderr).toMatch(/download/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.examples).toHaveLength(2);
    const snap = join(home, 'hub', 'models--test--tiny', 'snapshots', hub.commitOf('test/tiny'));
    expect(readFileSync(join(snap, 'config.json'), 'utf8')).toBe(readFileSync(join(TINY, 'config.json'), 'utf8'));
    expect(readFileSync(join(home, 'hub', 'models--test--tiny', 'refs', 'main'), 'utf8')).toBe(hub.commitOf('test/tiny'));
  }, 240_000);

  it('train --model OWNER/NAME --data hf://… trains and writes the adapter', async () => {
    const out = join(home, 'adapter');
    const r = await cli('train', '--model', 'test/tiny', '--data', 'hf://datasets/test/prefs', '--out', out, '--max-steps', '1', '--eval-fraction', '0');
    expect(r.stderr).toMatch(/data: hf:\/\/datasets\/test\/prefs\/default\/train \(the Hub's Parquet conversion at commit [0-9a-f]{8}\)/);
    expect(readFileSync(join(out, 'adapter_config.json'), 'utf8')).toMatch(/"r":/);
  }, 240_000);
});
