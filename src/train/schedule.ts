// Learning-rate schedules as Hugging Face transformers' get_scheduler defines them (LambdaLR multipliers),
// so a run here and the same run in TRL follow the same curve. `step` is the 0-based optimizer step:
// like torch's LambdaLR, the first update uses multiplier(0) (0 during warmup).
import type { Schedule } from './config.ts';

export function warmupSteps(totalSteps: number, warmupRatio: number, warmupStepsOpt: number): number {
  // HF TrainingArguments.get_warmup_steps: explicit steps win over the ratio.
  return warmupStepsOpt > 0 ? warmupStepsOpt : Math.ceil(totalSteps * warmupRatio);
}

export function lrMultiplier(schedule: Schedule, step: number, totalSteps: number, warmup: number): number {
  if (step < warmup) return step / Math.max(1, warmup);
  switch (schedule) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
    case 'cosine': {
      const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    case 'inverse_sqrt': {
      // get_inverse_sqrt_schedule: timescale defaults to the warmup length (or 10 000 without warmup).
      const timescale = warmup || 10_000;
      const shift = timescale - warmup;
      return 1 / Math.sqrt((step + shift) / timescale);
    }
  }
}
