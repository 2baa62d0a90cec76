// `cli train` is the studio's engine: Ctrl-C pauses at a step boundary, checkpoints and exits 130 with the
// adapter written; the adapter it writes is byte for byte what the studio's LocalEngine exports from the same
// checkpoint; --resume continues from it.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/engine/local.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { REPO } from '../train/util.ts';
import { spawnCli } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-cli-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli train', () => {
  const data = join(dir, 'demo8.jsonl');
  writeFileSync(data, readFileSync(resolve(REPO, 'public/demo/wmt22-preference.jsonl'), 'utf8').split('\n').slice(0, 8).join('\n') + '\n');
  const out = join(dir, 'adapter');
  const args = ['train', '--model', resolve(REPO, 'public/models/tiny'), '--data', data, '--out', out, '--quant', 'q8_0', '--batch-size', '1', '--grad-accum', '1', '--max-length', '32', '--max-prompt-length', '24', '--eval-fraction', '0.25', '--checkpoint-every', '0'];

  it('Ctrl-C checkpoints, writes the adapter the studio would export, exits 130; --resume continues', { timeout: 900_000 }, async () => {
    let sent = false;
    const r = await spawnCli([...args, '--max-steps', '500'], (text, child) => {
      if (!sent && /\] 1\/500 /.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(r.stderr).toMatch(/model: load .* \d+\/\d+/); // progress for the model load, the read and tokenization
    expect(r.stderr).toMatch(/data: read .*demo8\.jsonl/);
    expect(r.stderr).toMatch(/data: tokenize 8\/8/);
    expect(r.stderr).toMatch(/records read:\s+8/);
    expect(r.stderr).toMatch(/interrupted: checkpointing/);
    expect(r.code, r.stderr.slice(-2000)).toBe(130);

    const store = new FolderRunStore(join(out, 'checkpoints'));
    const runs = await store.list();
    expect(runs).toHaveLength(1);
    const { runId, step } = runs[0];
    expect(step).toBeGreaterThanOrEqual(1);
    expect(step).toBeLessThan(500);
    // The studio's engine over the same folder store exports the same bytes, without a GPU.
    const engine = new LocalEngine(store);
    try {
      const exported = await engine.exportAdapter(runId, 'f32');
      for (const f of exported.files) expect(new Uint8Array(readFileSync(join(out, f.name))), f.name).toEqual(f.bytes);
      expect(exported.files.map((f) => f.name).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    } finally {
      engine.dispose();
    }
    expect(readdirSync(join(out, 'trl-recipe'))).toEqual(expect.arrayContaining(['README.md', 'eval.jsonl', 'lora_config.json', 'train.jsonl', 'train_cpo.py', 'trainer_config.json']));

    const resumed = await spawnCli([...args, '--resume', '--max-steps', String(step + 1)]);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toContain(`resuming at step ${step}`);
    expect(resumed.stderr).toContain(`finished at step ${step + 1}/${step + 1}`);
    const after = await store.list();
    expect(after.map((s) => [s.runId, s.step])).toEqual([[runId, step + 1]]);
    expect(existsSync(join(out, 'training_history.json'))).toBe(true);
  });
});
