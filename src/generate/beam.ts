// Beam search as transformers' generate(num_beams=k, do_sample=False, early_stopping=False) runs it:
// per source, the 2k best (beam, token) continuations by Σ log p; an EOS among the first k closes a hypothesis
// scored Σ log p / length^length_penalty; the first k others become the next beams; a source is done once k
// hypotheses are kept and the best running beam cannot beat the worst of them at the current length.
// Beams of a source share its prompt's cache: the prompt is prefilled once and reorder() copies cache rows.
//
// Lengths count the new tokens including the EOS (transformers ≥ 4.45 does; older versions left it out).
// A stop token (isStopToken, e.g. a newline) closes a hypothesis as EOS does, but stays in its tokens.
import type { Decoder } from './decoder.ts';
import type { GenerateOptions, Generated, StopReason } from './types.ts';
import { logSumExp, topK } from './sampling.ts';

interface Beam {
  ids: number[];
  logp: number;
}

interface Hyp {
  ids: number[];
  logp: number;
  score: number;
  stop: StopReason;
}

class Hypotheses {
  list: Hyp[] = [];
  constructor(
    readonly k: number,
    readonly lengthPenalty: number,
  ) {}

  worst(): number {
    return this.list.length ? Math.min(...this.list.map((h) => h.score)) : Infinity;
  }

  add(ids: number[], logp: number, length: number, stop: StopReason): void {
    const score = logp / Math.pow(Math.max(1, length), this.lengthPenalty);
    if (this.list.length < this.k || score > this.worst()) {
      this.list.push({ ids, logp, score, stop });
      if (this.list.length > this.k) {
        const w = this.list.reduce((wi, h, i) => (h.score < this.list[wi].score ? i : wi), 0);
        this.list.splice(w, 1);
      }
    }
  }

  /** early_stopping=False: nothing running can still beat the worst kept hypothesis. */
  isDone(bestRunningLogp: number, length: number): boolean {
    if (this.list.length < this.k) return false;
    return this.worst() >= bestRunningLogp / Math.pow(Math.max(1, length), this.lengthPenalty);
  }

  /** Best first; a stable sort, so equal scores keep their list order and the first of them leads (as best() did). */
  sorted(): Hyp[] {
    return [...this.list].sort((a, b) => b.score - a.score);
  }
}

export async function beamSearch(dec: Decoder, prompts: number[][], o: GenerateOptions & { numBeams: number; lengthPenalty: number }): Promise<Generated[]> {
  return (await beamSearchAll(dec, prompts, o)).map((list) => list[0]);
}

/**
 * Every kept hypothesis per prompt (up to numBeams), best first by score (ties: the order they were closed), as
 * transformers' num_return_sequences = num_beams returns them. The first of each list is beamSearch's answer.
 */
export async function beamSearchAll(dec: Decoder, prompts: number[][], o: GenerateOptions & { numBeams: number; lengthPenalty: number }): Promise<Generated[][]> {
  const k = o.numBeams;
  const V = dec.model.cfg.V;
  const eos = new Set(o.eosIds);
  const B = prompts.length;
  const hyps = prompts.map(() => new Hypotheses(k, o.lengthPenalty));
  const done = prompts.map(() => false);
  // beams[s][j] lives in slot s*k + j once the first step has spread the prompt's cache over the beams.
  let beams: Beam[][] = prompts.map(() => [{ ids: [], logp: 0 }]);
  let logits = await dec.prefill(prompts); // (B, V): slot s holds source s
  for (let step = 0; ; step++) {
    const first = step === 0;
    const parents = new Int32Array(B * k);
    const next: Beam[][] = [];
    for (let s = 0; s < B; s++) {
      const running = beams[s];
      if (done[s]) {
        next.push(running);
        for (let j = 0; j < k; j++) parents[s * k + j] = first ? s : s * k + j;
        continue;
      }
      // Candidates: each beam's 2k best tokens (enough: the overall 2k best are among them).
      const cands: { logp: number; token: number; beam: number }[] = [];
      running.forEach((beam, j) => {
        const off = (first ? s : s * k + j) * V;
        const lse = logSumExp(logits, off, V);
        for (const t of topK(logits, 2 * k, off, V)) cands.push({ logp: beam.logp + (t.value - lse), token: t.index, beam: j });
      });
      cands.sort((a, b) => b.logp - a.logp || a.beam - b.beam);
      const chosen: (Beam & { parent: number })[] = [];
      for (let rank = 0; rank < Math.min(cands.length, 2 * k) && chosen.length < k; rank++) {
        const c = cands[rank];
        const parent = running[c.beam];
        const length = parent.ids.length + 1;
        if (eos.has(c.token)) {
          if (rank < k) hyps[s].add(parent.ids, c.logp, length, 'eos');
        } else if (o.isStopToken?.(c.token)) {
          if (rank < k) hyps[s].add([...parent.ids, c.token], c.logp, length, 'stop-token');
        } else chosen.push({ ids: [...parent.ids, c.token], logp: c.logp, parent: c.beam });
      }
      const length = step + 1;
      if (chosen.length === 0) {
        // Every continuation closed a hypothesis (tiny vocabularies): nothing is left to run.
        done[s] = true;
        next.push(running);
        for (let j = 0; j < k; j++) parents[s * k + j] = first ? s : s * k + Math.min(j, running.length - 1);
        continue;
      }
      // Fewer than k open continuations only happens with vocabularies under 2k live tokens: repeat the last.
      while (chosen.length < k) chosen.push(chosen[chosen.length - 1]);
      for (let j = 0; j < k; j++) parents[s * k + j] = first ? s : s * k + chosen[j].parent;
      next.push(chosen.map(({ ids, logp }) => ({ ids, logp })));
      if (length >= o.maxNewTokens) {
        for (const b of chosen.slice(0, k)) hyps[s].add(b.ids, b.logp, b.ids.length, 'length');
        done[s] = true;
      } else if (hyps[s].isDone(chosen[0].logp, length)) done[s] = true;
    }
    beams = next;
    o.onStep?.(step + 1);
    if (done.every(Boolean)) break;
    dec.reorder(parents);
    const tokens = new Int32Array(B * k);
    for (let s = 0; s < B; s++) for (let j = 0; j < k; j++) tokens[s * k + j] = beams[s][Math.min(j, beams[s].length - 1)].ids.at(-1) ?? 0;
    logits = await dec.step(tokens);
  }
  return hyps.map((h, s) => {
    if (h.list.length === 0) {
      // Closed without any hypothesis (every candidate was EOS beyond rank k): the best running beam.
      const b = beams[s][0];
      return [{ ids: b.ids, stop: 'length' as StopReason, logp: b.logp, score: b.logp }];
    }
    return h.sorted().map(({ ids, stop, logp, score }) => ({ ids, stop, logp, score }));
  });
}
