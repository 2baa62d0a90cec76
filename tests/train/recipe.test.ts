// The TRL recipe export is complete and says what the run says.
import { describe, expect, it } from 'vitest';
import type { PreferenceRow } from '../../src/data/types.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { buildRecipe } from '../../src/train/recipe.ts';

const row = (i: number): PreferenceRow => ({ kind: 'text', prompt: `Translate ${i}:\n`, chosen: ` good ${i}`, rejected: ` bad ${i}`, line: i + 1, row: i + 1 });

describe('TRL recipe', () => {
  it('writes every file, consistent with the run settings and the data', () => {
    const c = presetConfig('alma-r', { name: 'demo', maxSteps: 0, epochs: 2, seed: 7 });
    const files = new Map(buildRecipe(c, 'haoranxu/ALMA-7B', [row(0), row(1), row(2)], [row(3)]).map((f) => [f.name, f.text]));
    expect([...files.keys()].sort()).toEqual(['README.md', 'eval.jsonl', 'lora_config.json', 'model.json', 'train.jsonl', 'train_cpo.py', 'trainer_config.json']);
    const train = files.get('train.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
    expect(train).toEqual([0, 1, 2].map((i) => ({ prompt: row(i).prompt, chosen: (row(i) as { chosen: string }).chosen, rejected: (row(i) as { rejected: string }).rejected })));
    const tc = JSON.parse(files.get('trainer_config.json')!);
    expect(tc).toMatchObject({
      beta: c.beta, cpo_alpha: c.cpoAlpha, loss_type: 'sigmoid', learning_rate: c.lr, lr_scheduler_type: 'inverse_sqrt',
      warmup_ratio: c.warmupRatio, weight_decay: c.weightDecay, per_device_train_batch_size: c.batchSize,
      gradient_accumulation_steps: c.gradAccum, num_train_epochs: 2, max_steps: -1, max_length: c.maxLength,
      max_prompt_length: c.maxPromptLength, seed: 7, max_grad_norm: c.maxGradNorm,
    });
    expect(JSON.parse(files.get('lora_config.json')!)).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['down_proj'], use_rslora: false, bias: 'none', task_type: 'CAUSAL_LM' });
    expect(JSON.parse(files.get('model.json')!)).toEqual({ model: 'haoranxu/ALMA-7B', has_eval: true });
    const py = files.get('train_cpo.py')!;
    for (const f of ['trainer_config.json', 'lora_config.json', 'train.jsonl', 'eval.jsonl', 'model.json']) expect(py).toContain(f);
    expect(py).toContain('CPOTrainer');
    expect(files.get('README.md')).toContain('accelerate launch train_cpo.py haoranxu/ALMA-7B');
  });

  it('maps DPO to DPOTrainer, constant-with-warmup to its transformers name, and refuses SFT', () => {
    const dpo = buildRecipe(presetConfig('quick', { loss: 'dpo', schedule: 'constant', warmupRatio: 0.1 }), 'm', [row(0)], []);
    const byName = new Map(dpo.map((f) => [f.name, f.text]));
    expect(byName.get('train_cpo.py')).toContain('DPOTrainer');
    const tc = JSON.parse(byName.get('trainer_config.json')!);
    expect(tc.lr_scheduler_type).toBe('constant_with_warmup');
    expect(tc.cpo_alpha).toBeUndefined();
    expect(JSON.parse(byName.get('model.json')!).has_eval).toBe(false);
    expect(() => buildRecipe(presetConfig('quick', { loss: 'sft' }), 'm', [row(0)], [])).toThrow(/sft/);
  });
});
