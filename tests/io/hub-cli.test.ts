// The CLI with Hub ids and hf://datasets/… against the local Hub-shaped server (HF_ENDPOINT), the Python HF
// cache in a temp HF_HOME: `validate --data hf://…` and `logps --model OWNER/NAME --data hf://…`, progress on
// stderr, and the second run served from the cache; `build-prefs --data hf://…` reads a parallel split's shards.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentenceScore } from '../../src/prefs/score.ts';
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
// Parallel text in two shards: rows are numbered across them (the empty source is row 4), another pair is skipped.
const parallel = [
  [
    { lp: 'de-en', src: 'Guten Morgen', ref: 'Good morning', gpt4: 'Good evening' },
    { lp: 'de-en', src: 'Vielen Dank', ref: 'Thank you very much', gpt4: 'Many thanks' },
  ],
  [
    { lp: 'fr-en', src: 'Merci', ref: 'Thanks', gpt4: 'Thank you' },
    { lp: 'de-en', src: '', ref: 'Hello', gpt4: 'Hi' },
    { lp: 'de-en', src: 'Ja, gerne', ref: 'Yes, gladly', gpt4: 'Yes, with pleasure' },
  ],
];
const parallelCols = ['lp', 'src', 'ref', 'gpt4'].map((name) => ({ name, type: 'string' as const }));

let hub: FakeHub;
let home: string;
beforeAll(async () => {
  const tiny = Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(join(TINY, f)))]));
  hub = await startFakeHub({
    'test/tiny': { revisions: { main: tiny } },
    'test/prefs': { type: 'dataset', revisions: { 'refs/convert/parquet': { 'default/train/0000.parquet': writeParquet(cols, rows, { codec: 'snappy' }) } } },
    'test/parallel': {
      type: 'dataset',
      revisions: { 'refs/convert/parquet': { 'default/train/0000.parquet': writeParquet(parallelCols, parallel[0]), 'default/train/0001.parquet': writeParquet(parallelCols, parallel[1], { codec: 'snappy' }) } },
    },
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
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(config.r).toBeGreaterThan(0);
    // The Hub id, which PEFT downloads by, not the cache folder it resolved to on this machine.
    expect(config.base_model_name_or_path).toBe('test/tiny');
  }, 240_000);

  it('build-prefs --data hf://… builds triplets from a parallel split read across its shards', async () => {
    const out = join(home, 'prefs.jsonl');
    const args = ['build-prefs', '--model', TINY, '--quant', 'none', '--data', 'hf://datasets/test/parallel', '--pair', 'de-en', '--systems', 'gpt4', '--candidates', '0', '--out', out];
    const r = await cli(...args);
    const err = r.stderr;
    expect(err).toMatch(/download/);
    expect(err).toMatch(/data: hf:\/\/datasets\/test\/parallel\/default\/train \(the Hub's Parquet conversion at commit [0-9a-f]{8}\)/);
    expect(err).toMatch(/data: hf:\/\/datasets\/test\/parallel\/default\/train \(parquet\): 3 sources, 1 of other pairs skipped, 1 unusable; columns src \/ ref \/ lp; systems gpt4/);
    expect(err).toMatch(/line 4 \(src\)/);
    const got = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const used = [parallel[0][0], parallel[0][1], parallel[1][2]];
    expect(got.map((g) => [g.prompt, g.chosen, g.rejected, g.chosen_from, g.rejected_from])).toEqual(
      used.map((u) => [`Translate this from German to English:\nGerman: ${u.src}\nEnglish:`, u.ref, u.gpt4, ['reference'], ['system:gpt4']]),
    );
    expect(got.map((g) => g.rejected_score)).toEqual(used.map((u) => sentenceScore(u.gpt4, u.ref, 'chrf++')));
    // Again from the cache: no shard is fetched, and the file is the same.
    const n = hub.requests.length;
    await cli(...args, '--fresh');
    expect(hub.requests.slice(n).filter((q) => !q.path.startsWith('/api/'))).toEqual([]);
    expect(readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(got);
  }, 240_000);
});
