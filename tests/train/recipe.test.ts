// The TRL recipe export is complete and says what the run says.
import { describe, expect, it } from 'vitest';
import type { PreferenceRow } from '../../src/data/types.ts';
import { presetConfig } from '../../src/train/presets.ts';
import { buildRecipe, RECIPE_PINS, shellQuote } from '../../src/train/recipe.ts';

const row = (i: number): PreferenceRow => ({ kind: 'text', prompt: `Translate ${i}:\n`, chosen: ` good ${i}`, rejected: ` bad ${i}`, line: i + 1, row: i + 1 });

describe('TRL recipe', () => {
  it('writes every file, consistent with the run settings and the data', () => {
    const c = presetConfig('alma-r', { name: 'demo', maxSteps: 0, epochs: 2, seed: 7 });
    const files = new Map(buildRecipe(c, 'haoranxu/ALMA-7B', [row(0), row(1), row(2)], [row(3)]).map((f) => [f.name, f.text]));
    expect([...files.keys()].sort()).toEqual(['README.md', 'eval.jsonl', 'lora_config.json', 'model.json', 'requirements.txt', 'train.jsonl', 'train_cpo.py', 'trainer_config.json']);
    const train = files.get('train.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
    expect(train).toEqual([0, 1, 2].map((i) => ({ prompt: row(i).prompt, chosen: (row(i) as { chosen: string }).chosen, rejected: (row(i) as { rejected: string }).rejected })));
    const tc = JSON.parse(files.get('trainer_config.json')!);
    expect(tc).toMatchObject({
      beta: c.beta, cpo_alpha: c.cpoAlpha, loss_type: 'sigmoid', learning_rate: c.lr, lr_scheduler_type: 'inverse_sqrt',
      warmup_steps: c.warmupRatio, weight_decay: c.weightDecay, per_device_train_batch_size: c.batchSize,
      gradient_accumulation_steps: c.gradAccum, num_train_epochs: 2, max_steps: -1, max_length: c.maxLength,
      seed: 7, max_grad_norm: c.maxGradNorm,
    });
    // transformers 5 has no warmup_ratio (a warmup_steps below 1 is the ratio), TRL 1.x's CPOConfig no
    // max_prompt_length, and bf16 is the script's to choose from the device.
    expect(c.warmupRatio).toBeGreaterThan(0);
    expect(c.warmupRatio).toBeLessThan(1);
    for (const k of ['warmup_ratio', 'max_prompt_length', 'bf16', 'rpo_alpha']) expect(tc).not.toHaveProperty(k);
    expect(JSON.parse(files.get('lora_config.json')!)).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['down_proj'], use_rslora: false, bias: 'none', task_type: 'CAUSAL_LM' });
    expect(JSON.parse(files.get('model.json')!)).toEqual({ model: 'haoranxu/ALMA-7B', has_eval: true, max_prompt_length: c.maxPromptLength });
    const py = files.get('train_cpo.py')!;
    for (const f of ['trainer_config.json', 'lora_config.json', 'train.jsonl', 'eval.jsonl', 'model.json']) expect(py).toContain(`"${f}"`);
    // TRL 1.x: CPO lives in trl.experimental.cpo, with the top-level import as the fallback for TRL 0.x
    expect(py).toMatch(/try:[^\n]*\n\s+from trl\.experimental\.cpo import CPOConfig, CPOTrainer\nexcept ImportError:[^\n]*\n\s+from trl import CPOConfig, CPOTrainer/);
    expect(py).toMatch(/setdefault\("bf16", torch\.cuda\.is_available\(\)/);
    // the pad token is set before the trainer (whose collator reads it) is built
    expect(py.indexOf('tokenizer.pad_token = tokenizer.eos_token')).toBeLessThan(py.indexOf('trainer = CPOTrainer('));
    expect(files.get('README.md')).toContain('accelerate launch train_cpo.py haoranxu/ALMA-7B');
    expect(files.get('requirements.txt')).toBe(Object.entries(RECIPE_PINS).map(([k, v]) => `${k}==${v}\n`).join(''));
    expect(files.get('requirements.txt')).toContain('trl==1.13.0\ntransformers==5.17.0\n');
  });

  it('maps DPO to DPOTrainer with its NLL term, constant-with-warmup to its transformers name, and refuses SFT', () => {
    const dpo = buildRecipe(presetConfig('quick', { loss: 'dpo', schedule: 'constant', warmupRatio: 0.1, cpoAlpha: 0.5 }), 'm', [row(0)], []);
    const byName = new Map(dpo.map((f) => [f.name, f.text]));
    expect(byName.get('train_cpo.py')).toContain('from trl import DPOConfig, DPOTrainer');
    const tc = JSON.parse(byName.get('trainer_config.json')!);
    expect(tc.lr_scheduler_type).toBe('constant_with_warmup');
    expect(tc.cpo_alpha).toBeUndefined();
    // TRL 1.x's DPO adds cpo_alpha·NLL(chosen) as a weighted 'sft' loss; the script turns it into rpo_alpha for TRL 0.x
    expect([tc.loss_type, tc.loss_weights]).toEqual([['sigmoid', 'sft'], [1, 0.5]]);
    expect(byName.get('train_cpo.py')).toContain('kwargs["rpo_alpha"] = weights[loss.index("sft")]');
    const plain = JSON.parse(buildRecipe(presetConfig('quick', { loss: 'dpo', cpoAlpha: 0 }), 'm', [row(0)], []).find((f) => f.name === 'trainer_config.json')!.text);
    expect([plain.loss_type, plain.loss_weights]).toEqual([['sigmoid'], undefined]);
    const steps = JSON.parse(buildRecipe(presetConfig('quick', { warmupSteps: 30 }), 'm', [row(0)], []).find((f) => f.name === 'trainer_config.json')!.text);
    expect(steps.warmup_steps).toBe(30);
    expect(JSON.parse(byName.get('model.json')!).has_eval).toBe(false);
    expect(() => buildRecipe(presetConfig('quick', { loss: 'sft' }), 'm', [row(0)], [])).toThrow(/sft/);
  });

  it('quotes model paths and names with spaces or quotes where a shell or Python reads them', () => {
    expect(shellQuote('Qwen/Qwen2.5-0.5B')).toBe('Qwen/Qwen2.5-0.5B');
    expect(shellQuote("/data/my model's dir")).toBe("'/data/my model'\\''s dir'");
    const files = new Map(buildRecipe(presetConfig('quick', { name: 'a "quoted"\nname' }), '/data/my model', [row(0)], []).map((f) => [f.name, f.text]));
    expect(files.get('README.md')).toContain("accelerate launch train_cpo.py '/data/my model'");
    const first = files.get('train_cpo.py')!.split('\n')[0];
    expect(first).toBe(`# Generated by CPO Studio: the run ${JSON.stringify('a "quoted"\nname')} as a Hugging Face TRL recipe.`);
    expect(files.get('train_cpo.py')!.split('\n')[1]).toMatch(/^# Checked with: pip install "trl==1\.13\.0"/);
  });
});
