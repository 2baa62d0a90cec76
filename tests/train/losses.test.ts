// The loss family against formulas written out as TRL's CPOTrainer.cpo_loss and DPO's sigmoid loss state
// them, and the coefficients against central differences.
import { describe, expect, it } from 'vitest';
import { cpoLoss, validateLossConfig, type LossConfig, type PairLogps } from '../../src/train/losses.ts';
import { Rng } from '../../src/util/rng.ts';

const logsigmoid = (x: number) => -Math.log(1 + Math.exp(-x));

function pairs(seed: number, n: number, withRef: boolean): PairLogps[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => ({
    chosenSum: -20 - 30 * r.next(),
    rejectedSum: -20 - 30 * r.next(),
    chosenTokens: 5 + r.int(20),
    rejectedTokens: 5 + r.int(20),
    ...(withRef ? { refChosenSum: -25 - 20 * r.next(), refRejectedSum: -25 - 20 * r.next() } : {}),
  }));
}

/** TRL, written out: losses.mean() + cpo_alpha * NLL (token mean over chosen). */
function trl(ps: PairLogps[], c: LossConfig): number {
  const mean = c.loss === 'ipo' || c.loss === 'simpo';
  const tokens = ps.reduce((a, p) => a + p.chosenTokens, 0);
  const nll = -ps.reduce((a, p) => a + p.chosenSum, 0) / tokens;
  const terms = ps.map((p) => {
    const pc = mean ? p.chosenSum / p.chosenTokens : p.chosenSum;
    const pr = mean ? p.rejectedSum / p.rejectedTokens : p.rejectedSum;
    let logits = pc - pr;
    const b = c.beta;
    switch (c.loss) {
      case 'simpo':
        logits -= c.simpoGamma / b;
        return -logsigmoid(b * logits) * (1 - c.labelSmoothing) - logsigmoid(-b * logits) * c.labelSmoothing;
      case 'sigmoid':
        return -logsigmoid(b * logits) * (1 - c.labelSmoothing) - logsigmoid(-b * logits) * c.labelSmoothing;
      case 'hinge':
        return Math.max(0, 1 - b * logits);
      case 'ipo':
        return (logits - 1 / (2 * b)) ** 2;
      case 'dpo': {
        const z = pc - p.refChosenSum! - (pr - p.refRejectedSum!);
        return -logsigmoid(b * z) * (1 - c.labelSmoothing) - logsigmoid(-b * z) * c.labelSmoothing;
      }
      case 'sft':
        return 0;
    }
  });
  return terms.reduce((a, t) => a + t, 0) / ps.length + c.cpoAlpha * nll;
}

const CASES: LossConfig[] = [
  { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0.5 },
  { loss: 'sigmoid', beta: 0.5, cpoAlpha: 0.3, labelSmoothing: 0.1, simpoGamma: 0.5 },
  { loss: 'hinge', beta: 0.05, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0.5 },
  { loss: 'ipo', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0.5 },
  { loss: 'simpo', beta: 2, cpoAlpha: 0, labelSmoothing: 0, simpoGamma: 1 },
  { loss: 'dpo', beta: 0.1, cpoAlpha: 0, labelSmoothing: 0, simpoGamma: 0 },
  { loss: 'sft', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0 },
];

describe('CPO loss family', () => {
  for (const c of CASES) {
    it(`${c.loss} (β ${c.beta}, ε ${c.labelSmoothing}, α ${c.cpoAlpha}) equals TRL's formula, with correct gradients`, () => {
      const ps = pairs(c.beta * 100, 6, c.loss === 'dpo');
      const norm = { pairs: ps.length, chosenTokens: ps.reduce((a, p) => a + p.chosenTokens, 0) };
      const r = cpoLoss(ps, c, norm);
      expect(r.loss).toBeCloseTo(trl(ps, c), 12);
      const h = 1e-6;
      ps.forEach((_, i) => {
        for (const [key, d] of [['chosenSum', r.dChosen[i]], ['rejectedSum', r.dRejected[i]]] as const) {
          const up = ps.map((q, j) => (j === i ? { ...q, [key]: q[key] + h } : q));
          const dn = ps.map((q, j) => (j === i ? { ...q, [key]: q[key] - h } : q));
          // dChosen is per token: the pair's sum gets it once per token, d(loss)/d(sum) = coefficient.
          const fd = (trl(up, c) - trl(dn, c)) / (2 * h);
          expect(d).toBeCloseTo(fd, 6);
        }
      });
    });
  }

  it('splitting a batch into micro-batches with the same normaliser adds up to the whole', () => {
    const c = CASES[1];
    const ps = pairs(3, 8, false);
    const norm = { pairs: 8, chosenTokens: ps.reduce((a, p) => a + p.chosenTokens, 0) };
    const whole = cpoLoss(ps, c, norm).loss;
    const parts = cpoLoss(ps.slice(0, 3), c, norm).loss + cpoLoss(ps.slice(3), c, norm).loss;
    expect(parts).toBeCloseTo(whole, 12);
  });

  it('refuses settings that name no loss', () => {
    expect(() => validateLossConfig({ ...CASES[0], beta: 0 })).toThrow(/beta/);
    expect(() => validateLossConfig({ ...CASES[0], labelSmoothing: 0.5 })).toThrow(/label_smoothing/);
    expect(() => validateLossConfig({ ...CASES[0], loss: 'nope' as never })).toThrow(/unknown/);
  });
});

describe('nll_loss as TRL logs it', () => {
  it('is 0 with cpo_alpha 0 (TRL skips it), the token-mean NLL otherwise', () => {
    const ps = pairs(11, 3, false);
    const tokens = ps.reduce((a, p) => a + p.chosenTokens, 0);
    const norm = { pairs: ps.length, chosenTokens: tokens };
    const base: LossConfig = { loss: 'simpo', beta: 2, cpoAlpha: 0, labelSmoothing: 0, simpoGamma: 0.5 };
    expect(cpoLoss(ps, base, norm).nll).toBe(0);
    expect(cpoLoss(ps, { ...base, cpoAlpha: 1 }, norm).nll).toBeCloseTo(-ps.reduce((a, p) => a + p.chosenSum, 0) / tokens, 12);
  });
});
