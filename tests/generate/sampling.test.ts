// Host-side token choice: argmax ties, top-k selection, and the nucleus/top-k filters of sampling.
import { describe, expect, it } from 'vitest';
import { argmax, logSumExp, sampleToken, tokenLogp, topK } from '../../src/generate/sampling.ts';
import { Rng } from '../../src/util/rng.ts';

const counts = (logits: number[], o: { temperature: number; topP: number; topK: number }, n = 4000) => {
  const rng = new Rng(5);
  const c = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) c[sampleToken(logits, o, rng)]++;
  return c.map((x) => x / n);
};

describe('sampling helpers', () => {
  it('argmax takes the first maximum; topK is sorted and stable; log-probs normalise', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([5, 1, 9, 9], 1, 3)).toBe(1);
    expect(topK([0.5, 2, 2, -1, 7], 3)).toEqual([{ value: 7, index: 4 }, { value: 2, index: 1 }, { value: 2, index: 2 }]);
    const l = [0.3, -1.2, 2.5, 0];
    const total = l.reduce((s, _, i) => s + Math.exp(tokenLogp(l, i)), 0);
    expect(total).toBeCloseTo(1, 12);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 9);
  });

  it('draws from softmax(logits / T), restricted by top-k and top-p', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const all = counts(logits, { temperature: 1, topP: 1, topK: 0 });
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => expect(Math.abs(all[i] - p)).toBeLessThan(0.03));
    // top_p 0.7: 0.5 alone is short of it, 0.5 + 0.3 reaches it: tokens 0 and 1, renormalised.
    const nucleus = counts(logits, { temperature: 1, topP: 0.7, topK: 0 });
    expect(nucleus[2] + nucleus[3]).toBe(0);
    expect(Math.abs(nucleus[0] - 0.625)).toBeLessThan(0.03);
    const k1 = counts(logits, { temperature: 1, topP: 1, topK: 1 }, 200);
    expect(k1[0]).toBe(1);
    const hot = counts(logits, { temperature: 100, topP: 1, topK: 0 });
    for (const p of hot) expect(Math.abs(p - 0.25)).toBeLessThan(0.03);
  });

  it('top-p over a pre-filtered superset draws what a sort of the whole vocabulary draws', () => {
    // The previous implementation: every id sorted, the nucleus cut from the full list.
    const reference = (logits: Float64Array, topP: number, rng: Rng) => {
      const order = [...logits.keys()].sort((a, b) => logits[b] - logits[a] || a - b);
      const p = order.map((i) => Math.exp(logits[i] - logits[order[0]]));
      let total = p.reduce((a, b) => a + b, 0);
      let cum = 0;
      let keep = order.length;
      for (let i = 0; i < order.length; i++) {
        cum += p[i] / total;
        if (cum >= topP) {
          keep = i + 1;
          break;
        }
      }
      total = p.slice(0, keep).reduce((a, b) => a + b, 0);
      let r = rng.next() * total;
      for (let i = 0; i < keep; i++) {
        r -= p[i];
        if (r < 0) return order[i];
      }
      return order[keep - 1];
    };
    const gen = new Rng(11);
    // Flat (every token in the nucleus), peaked (a handful), and in between; ties included.
    for (const [V, scale] of [[3001, 0.01], [5000, 8], [4096, 2], [777, 30]]) {
      const logits = Float64Array.from({ length: V }, () => Math.round(gen.normal() * scale * 8) / 8);
      for (const topP of [0.5, 0.9, 0.95, 0.999]) {
        const a = new Rng(V);
        const b = new Rng(V);
        for (let k = 0; k < 50; k++) expect(sampleToken(logits, { temperature: 1, topP, topK: 0 }, a)).toBe(reference(logits, topP, b));
      }
    }
  });
});

