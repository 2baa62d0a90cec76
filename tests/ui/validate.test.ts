import { describe, expect, it } from 'vitest';
import { PRESETS, presetConfig } from '../../src/ui/lib/presets.ts';
import { FIELD_BY_KEY, NUMBER_FIELDS, checkNumber, hasErrors, validateConfig } from '../../src/ui/lib/validate.ts';

describe('presets', () => {
  it('ALMA-R follows the paper', () => {
    const c = PRESETS['ALMA-R (paper)'];
    expect(c).toMatchObject({ r: 16, alpha: 32, dropout: 0.05, targets: ['down_proj'], beta: 0.1, cpoAlpha: 1, lr: 1e-4, weightDecay: 0.01, schedule: 'inverse_sqrt', warmupRatio: 0.01, epochs: 1, maxLength: 512, maxPromptLength: 256, loss: 'sigmoid' });
    expect(c.batchSize * c.gradAccum).toBe(16);
  });

  it('Quick try is small', () => {
    expect(PRESETS['Quick try']).toMatchObject({ r: 8, targets: 'all-linear', lr: 5e-4, maxLength: 128, batchSize: 2, gradAccum: 1, maxSteps: 30, schedule: 'constant' });
  });

  it('every preset is valid and copies are independent', () => {
    for (const name of Object.keys(PRESETS)) expect(validateConfig(presetConfig(name))).toEqual({});
    const a = presetConfig('ALMA-R (paper)');
    (a.targets as string[]).push('q_proj');
    expect(PRESETS['ALMA-R (paper)'].targets).toEqual(['down_proj']);
  });
});

describe('hyperparameter validation', () => {
  it('says the learning-rate bounds plainly', () => {
    expect(checkNumber(FIELD_BY_KEY.lr, '5').error).toBe('Learning rate must be between 1e-7 and 1');
    expect(checkNumber(FIELD_BY_KEY.lr, '1e-8').error).toBe('Learning rate must be between 1e-7 and 1');
    expect(checkNumber(FIELD_BY_KEY.lr, '3e-4')).toEqual({ value: 3e-4 });
  });

  it('rejects empty, non-numbers and fractions where whole numbers are needed', () => {
    expect(checkNumber(FIELD_BY_KEY.r, '').error).toBe('LoRA rank r is required');
    expect(checkNumber(FIELD_BY_KEY.r, '1e-').error).toBe('LoRA rank r must be a number');
    expect(checkNumber(FIELD_BY_KEY.r, '2.5').error).toBe('LoRA rank r must be a whole number');
    expect(checkNumber(FIELD_BY_KEY.dropout, '1').error).toBe('LoRA dropout must be in [0, 1)');
  });

  it('checks drafts over config values, and cross-field rules', () => {
    const c = presetConfig('Quick try');
    expect(validateConfig(c, { lr: 'abc' }).lr).toBe('Learning rate must be a number');
    expect(validateConfig({ ...c, maxPromptLength: 128 }).maxPromptLength).toBe('Max prompt length must be less than max length');
    expect(validateConfig({ ...c, targets: [] }).targets).toBeDefined();
    expect(validateConfig({ ...c, name: ' ' }).name).toBe('Run name is required');
    expect(validateConfig({ ...c, loss: 'hinge', labelSmoothing: 0.1 }).labelSmoothing).toBeDefined();
    expect(hasErrors(validateConfig(c))).toBe(false);
  });

  it('covers every numeric RunConfig field', () => {
    const c = presetConfig('Quick try');
    const numeric = Object.entries(c).filter(([, v]) => typeof v === 'number').map(([k]) => k).sort();
    expect(NUMBER_FIELDS.map((f) => f.key).sort()).toEqual(numeric);
  });
});
