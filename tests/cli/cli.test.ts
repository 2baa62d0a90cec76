// The command-line contract other tools rely on: `cli logps` and `cli grads` on the tiny demo model.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { memorySource } from '../../src/io/source.ts';
import { REPO } from '../train/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLI = ['--import', 'tsx', '--import', './scripts/wgsl-loader.mjs', 'src/cli/main.ts'];

function cli(...args: string[]): string {
  return execFileSync(process.execPath, [...CLI, ...args], { cwd: REPO, encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What the command wrote to stderr (its report and timing lines); it must exit 0. */
function cliStderr(...args: string[]): string {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`cli ${args[0]} exited ${r.status}: ${r.stderr}`);
  return r.stderr;
}

describe('cli logps / grads', { timeout: 600_000 }, () => {
  const data = join(dir, 'pairs.jsonl');
  const rows = [
    { prompt: 'Translate this from German to English:\nGerman: Guten Morgen\nEnglish:', chosen: ' Good morning', rejected: ' Good evening' },
    { prompt: 'Q: 2+2?\nA:', chosen: ' 4', rejected: ' five' },
  ];
  writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const model = resolve(REPO, 'public/models/tiny');
  const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));

  it('logps writes the contract JSON', () => {
    const out = join(dir, 'out.json');
    cli('logps', '--model', model, '--data', data, '--quant', 'none', '--out', out);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.examples).toHaveLength(2);
    for (const e of j.examples) {
      expect(e.prompt_ids[0]).toBe(cfg.bos_token_id);
      expect(e.chosen_ids.at(-1)).toBe(cfg.eos_token_id);
      expect(e.rejected_ids.at(-1)).toBe(cfg.eos_token_id);
      // A sum of log-probabilities over the completion: negative, finite, at most 0.
      expect(Number.isFinite(e.chosen_logp) && e.chosen_logp < 0).toBe(true);
      expect(Number.isFinite(e.rejected_logp) && e.rejected_logp < 0).toBe(true);
    }
    expect(Number.isFinite(j.loss)).toBe(true);
    for (const k of ['loss', 'nll_loss', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected']) {
      expect(Number.isFinite(j.metrics[k]), k).toBe(true);
    }
    expect(j.metrics['logps/chosen']).toBeCloseTo((j.examples[0].chosen_logp + j.examples[1].chosen_logp) / 2, 10);
  });

  it('grads writes one f32 tensor per LoRA parameter, named as PEFT names them, with the loss in the metadata; --profile adds GPU time per kernel', async () => {
    const out = join(dir, 'g.safetensors');
    const err = cliStderr('grads', '--model', model, '--data', data, '--quant', 'none', '--r', '4', '--targets', 'q_proj,down_proj', '--out', out, '--profile');
    // The profile table (SwiftShader has timestamp queries): its rows add up to its total row.
    const table = err.slice(err.indexOf('GPU time per kernel')).split('\n').slice(2).filter((l) => /^\S+\s+\d+\s+[\d.]+\s+[\d.]+%$/.test(l));
    const rows = table.map((l) => l.split(/\s+/)).map(([kernel, n, ms]) => ({ kernel, n: Number(n), ms: Number(ms) }));
    const total = rows.pop()!;
    expect(total.kernel).toBe('total');
    expect(rows.map((r) => r.kernel)).toEqual(expect.arrayContaining(['embedding', 'attention_fwd', 'lora_bwd_dA']));
    expect(rows.reduce((s, r) => s + r.n, 0)).toBe(total.n);
    expect(rows.reduce((s, r) => s + r.ms, 0)).toBeCloseTo(total.ms, 0);
    const st = await openSafetensors(memorySource(new Uint8Array(readFileSync(out)), 'g.safetensors'));
    expect(Number.isFinite(Number(st.metadata.loss))).toBe(true);
    const names = [...st.tensors.keys()];
    expect(names).toHaveLength(cfg.num_hidden_layers * 2 * 2);
    const C = cfg.hidden_size;
    const q = st.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!;
    expect(q.dtype).toBe('F32');
    expect(q.shape).toEqual([4, C]);
    expect(st.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')!.shape).toEqual([C, 4]);
  });

  it('names the problem on bad input', () => {
    expect(() => cli('logps', '--model', join(dir, 'nope'), '--data', data, '--out', join(dir, 'x.json'))).toThrow(/nope: no such file or folder/);
    expect(() => cli('logps', '--model', model, '--data', data, '--quant', 'q3', '--out', join(dir, 'x.json'))).toThrow(/--quant/);
  });
});
