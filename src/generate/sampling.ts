// Choosing tokens from one row of logits, on the host: argmax, log-softmax, and HF-style sampling
// (temperature, then top-k, then top-p, then a draw), all in float64.
import type { Rng } from '../util/rng.ts';

/** Index of the largest logit; ties go to the lowest id, as torch.argmax. */
export function argmax(logits: ArrayLike<number>, offset = 0, n = logits.length - offset): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** log-sum-exp of logits[offset .. offset+n). */
export function logSumExp(logits: ArrayLike<number>, offset = 0, n = logits.length - offset): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, logits[offset + i]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(logits[offset + i] - m);
  return m + Math.log(s);
}

/** log p(token) under softmax(logits row). */
export function tokenLogp(logits: ArrayLike<number>, token: number, offset = 0, n = logits.length - offset): number {
  return logits[offset + token] - logSumExp(logits, offset, n);
}

export interface SamplingOptions {
  /** > 0; 1 leaves the distribution as it is. */
  temperature: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP (1: all). */
  topP: number;
  /** Keep the k most likely tokens (0: all). */
  topK: number;
}

/** Draws one token from a logits row: temperature, top-k, top-p (transformers' logits warpers, in that order). */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: Rng, offset = 0, n = logits.length - offset): number {
  if (!(o.temperature > 0)) throw new Error(`temperature: must be > 0, got ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new Error(`top_p: must be in (0, 1], got ${o.topP}`);
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = logits[offset + i] / o.temperature;
  if (o.topP === 1 && !(o.topK > 0 && o.topK < n)) {
    // Nothing to filter: draw in id order and skip the sort (V log V per token at 150k vocabularies).
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, scaled[i]);
    let total = 0;
    for (let i = 0; i < n; i++) total += scaled[i] = Math.exp(scaled[i] - m);
    let r = rng.next() * total;
    for (let i = 0; i < n; i++) {
      r -= scaled[i];
      if (r < 0) return i;
    }
    return argmax(scaled);
  }
  // Candidates sorted by scaled logit, descending; stable on ids so equal logits keep a fixed order.
  const topKOnly = o.topK > 0 && o.topK < n;
  const nucleus = topKOnly ? null : nucleusSuperset(scaled, o.topP);
  let order = nucleus?.order ?? [...Array(n).keys()].sort(byLogitDesc(scaled));
  if (topKOnly) order = order.slice(0, o.topK);
  const m = scaled[order[0]];
  const p = order.map((i) => Math.exp(scaled[i] - m));
  let total = nucleus?.total ?? p.reduce((a, b) => a + b, 0);
  if (o.topP < 1) {
    // transformers removes tokens whose ascending cumulative probability is <= 1 − top_p, which keeps, in
    // descending order, every token up to and including the one that takes the sum past top_p.
    let cum = 0;
    let keep = order.length;
    for (let i = 0; i < order.length; i++) {
      cum += p[i] / total;
      if (cum >= o.topP) {
        keep = i + 1;
        break;
      }
    }
    order = order.slice(0, keep);
    p.length = keep;
    total = p.reduce((a, b) => a + b, 0);
  }
  let r = rng.next() * total;
  for (let i = 0; i < order.length; i++) {
    r -= p[i];
    if (r < 0) return order[i];
  }
  return order[order.length - 1];
}

/** The k largest (value, index) of a row, descending (ties: lower index first). */
export function topK(values: ArrayLike<number>, k: number, offset = 0, n = values.length - offset): { value: number; index: number }[] {
  const out: { value: number; index: number }[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[offset + i];
    if (out.length === k && !(v > out[k - 1].value)) continue;
    let j = out.length < k ? out.length : k - 1;
    if (out.length < k) out.push({ value: v, index: i });
    // Insertion keeps the list sorted; k is small (2 × beams).
    while (j > 0 && out[j - 1].value < v) {
      out[j] = out[j - 1];
      j--;
    }
    out[j] = { value: v, index: i };
  }
  return out;
}

const byLogitDesc = (scaled: Float64Array) => (a: number, b: number) => scaled[b] - scaled[a] || a - b;

/**
 * The most likely tokens, sorted, down to a probability threshold low enough that they hold at least topP of the
 * mass — so the nucleus is a prefix of them — and the total mass Σ exp(x − max) over all tokens. Sorting only
 * these instead of the whole vocabulary: at Qwen2.5's V 151,936 (one strong token over normal logits of scale
 * 0.05 / 1 / 3, T 0.8, top-p 0.95) one draw took 603 / 496 / 478 ms with the full sort and takes 25 / 16 / 112 ms
 * (a loaded 2-vCPU machine): per sequence and decode step, so it bounded sampled candidates per second.
 * Tokens left out each have p < t, together < n·t: with t = (1 − topP)·total / n the kept ones reach topP by
 * construction; the tighter 1e-4 × the largest is tried first and kept when it already reaches topP.
 */
function nucleusSuperset(scaled: Float64Array, topP: number): { order: number[]; total: number } {
  const n = scaled.length;
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, scaled[i]);
  const p = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += p[i] = Math.exp(scaled[i] - m);
  let kept: number[] = [];
  for (const t of [1e-4, ((1 - topP) * total) / n]) {
    kept = [];
    let mass = 0;
    for (let i = 0; i < n; i++) {
      if (p[i] >= t) {
        kept.push(i);
        mass += p[i];
      }
    }
    if (mass >= topP * total) break;
  }
  return { order: kept.sort(byLogitDesc(scaled)), total };
}
