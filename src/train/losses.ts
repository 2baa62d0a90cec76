// The CPO loss family in float64 on the host, named and defined as Hugging Face TRL's CPOTrainer
// (plus DPO against the adapter-free base). Inputs are per-sequence log-prob sums read back from the GPU;
// outputs are the loss, TRL-named metrics, and d(loss)/d(token log-prob) coefficients for the backward pass.

export type LossType = 'sigmoid' | 'hinge' | 'ipo' | 'simpo' | 'dpo' | 'sft';
export const LOSS_TYPES: LossType[] = ['sigmoid', 'hinge', 'ipo', 'simpo', 'dpo', 'sft'];

export interface LossConfig {
  loss: LossType;
  beta: number;
  cpoAlpha: number;
  labelSmoothing: number;
  simpoGamma: number;
}

export const DEFAULT_LOSS: LossConfig = { loss: 'sigmoid', beta: 0.1, cpoAlpha: 1, labelSmoothing: 0, simpoGamma: 0.5 };

export interface PairLogps {
  chosenSum: number; // Σ log p over the chosen completion tokens
  rejectedSum: number;
  chosenTokens: number; // completion length (EOS included)
  rejectedTokens: number;
  /** DPO only: the same sums with the adapter switched off. */
  refChosenSum?: number;
  refRejectedSum?: number;
}

export interface LossNormalizer {
  /** Pairs in the whole (accumulated) batch: the preference term is a mean over them. */
  pairs: number;
  /** Chosen completion tokens in the whole batch: the NLL term is a token mean over them. */
  chosenTokens: number;
}

export interface LossResult {
  /** This micro-batch's share of the batch loss (sums to the full-batch loss over micro-batches). */
  loss: number;
  nll: number; // this micro-batch's share of the token-mean NLL (before cpo_alpha; 0 when cpo_alpha is 0, as TRL logs it)
  /** d(loss)/d(log p of each chosen / rejected token of pair i): the same for every token of a sequence. */
  dChosen: Float64Array;
  dRejected: Float64Array;
  /** Sums of per-pair quantities, for metrics averaged over the whole batch. */
  sums: { rewardsChosen: number; rewardsRejected: number; accuracies: number; margins: number; logpsChosen: number; logpsRejected: number };
}

const logSigmoid = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export function validateLossConfig(c: LossConfig): void {
  if (!LOSS_TYPES.includes(c.loss)) throw new Error(`loss: unknown type ${c.loss} (one of ${LOSS_TYPES.join(', ')})`);
  if (!(c.beta > 0) && c.loss !== 'sft') throw new Error(`beta: must be > 0, got ${c.beta}`);
  if (!(c.cpoAlpha >= 0)) throw new Error(`cpo_alpha: must be >= 0, got ${c.cpoAlpha}`);
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 0.5)) throw new Error(`label_smoothing: must be in [0, 0.5), got ${c.labelSmoothing}`);
  if (c.loss === 'sft' && c.cpoAlpha === 0) throw new Error('cpo_alpha: sft with cpo_alpha 0 has no loss');
}

/** Loss of one micro-batch of pairs, normalised by the whole batch (see LossNormalizer). */
export function cpoLoss(pairs: PairLogps[], cfg: LossConfig, norm: LossNormalizer): LossResult {
  const n = pairs.length;
  const dChosen = new Float64Array(n);
  const dRejected = new Float64Array(n);
  const sums = { rewardsChosen: 0, rewardsRejected: 0, accuracies: 0, margins: 0, logpsChosen: 0, logpsRejected: 0 };
  const { beta, labelSmoothing: eps } = cfg;
  const mean = cfg.loss === 'ipo' || cfg.loss === 'simpo';
  let pref = 0;
  let nllSum = 0;
  pairs.forEach((p, i) => {
    // TRL averages log-probs over tokens for ipo and simpo; d(mean)/d(token) = 1/len.
    const c = mean ? p.chosenSum / p.chosenTokens : p.chosenSum;
    const r = mean ? p.rejectedSum / p.rejectedTokens : p.rejectedSum;
    let delta = c - r;
    let rc = beta * c;
    let rr = beta * r;
    if (cfg.loss === 'dpo') {
      if (p.refChosenSum === undefined || p.refRejectedSum === undefined) throw new Error('dpo needs reference log-probs');
      rc = beta * (c - p.refChosenSum);
      rr = beta * (r - p.refRejectedSum);
      delta = c - p.refChosenSum - (r - p.refRejectedSum);
    }
    let l = 0;
    let dDelta = 0; // d l / d delta
    switch (cfg.loss) {
      case 'sigmoid':
      case 'dpo':
      case 'simpo': {
        const z = cfg.loss === 'simpo' ? delta - cfg.simpoGamma / beta : delta;
        l = -(1 - eps) * logSigmoid(beta * z) - eps * logSigmoid(-beta * z);
        dDelta = -(1 - eps) * beta * sigmoid(-beta * z) + eps * beta * sigmoid(beta * z);
        break;
      }
      case 'hinge': {
        const m = 1 - beta * delta;
        l = Math.max(0, m);
        dDelta = m > 0 ? -beta : 0;
        break;
      }
      case 'ipo': {
        const m = delta - 1 / (2 * beta);
        l = m * m;
        dDelta = 2 * m;
        break;
      }
      case 'sft':
        break;
    }
    pref += l;
    dChosen[i] = (dDelta / norm.pairs) * (mean ? 1 / p.chosenTokens : 1);
    dRejected[i] = (-dDelta / norm.pairs) * (mean ? 1 / p.rejectedTokens : 1);
    nllSum += -p.chosenSum;
    sums.rewardsChosen += rc;
    sums.rewardsRejected += rr;
    sums.accuracies += rc > rr ? 1 : 0;
    sums.margins += rc - rr;
    sums.logpsChosen += c;
    sums.logpsRejected += r;
  });
  const nll = nllSum / norm.chosenTokens;
  // NLL = −Σ chosen-token log p / N: every chosen token gets −cpo_alpha/N on top of its pair's term.
  const dNll = -cfg.cpoAlpha / norm.chosenTokens;
  for (let i = 0; i < n; i++) dChosen[i] += dNll;
  const prefWeight = cfg.loss === 'sft' ? 0 : 1;
  // TRL reports nll_loss 0 when cpo_alpha is 0 (it skips computing it).
  return { loss: (prefWeight * pref) / norm.pairs + cfg.cpoAlpha * nll, nll: cfg.cpoAlpha === 0 ? 0 : nll, dChosen, dRejected, sums };
}
