// Decoding strategies over a Decoder: greedy, sampling, and beam search (beam.ts), with the stop rules
// (EOS ids, an optional stop-token predicate such as "contains a newline", max new tokens).
import { Rng } from '../util/rng.ts';
import { beamSearch } from './beam.ts';
import type { Decoder } from './decoder.ts';
import { argmax, sampleToken, tokenLogp } from './sampling.ts';
import type { GenerateOptions, Generated } from './types.ts';

export type { GenerateOptions, Generated, StopReason } from './types.ts';

/** Reserves the decoder for prompts.length × beams sequences of up to the longest prompt + maxNewTokens. */
export function reserveFor(dec: Decoder, prompts: number[][], o: Pick<GenerateOptions, 'maxNewTokens' | 'numBeams'>): void {
  const P = Math.max(...prompts.map((p) => p.length));
  const beams = Math.max(1, o.numBeams ?? 1);
  dec.reserve({ slots: prompts.length * beams, maxLen: P + o.maxNewTokens, prefillRows: prompts.length * P });
}

/** Continues each prompt (token ids, BOS included when the model wants one). One batch: every prompt at once. */
export async function generate(dec: Decoder, prompts: number[][], o: GenerateOptions): Promise<Generated[]> {
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 1)) throw new Error(`max_new_tokens: must be a positive integer, got ${o.maxNewTokens}`);
  if (prompts.length === 0) return [];
  dec.useLora = o.useLora ?? true;
  reserveFor(dec, prompts, o);
  const beams = o.numBeams ?? 1;
  if (!(Number.isInteger(beams) && beams >= 1)) throw new Error(`num_beams: must be a positive integer, got ${beams}`);
  if (beams > 1) return beamSearch(dec, prompts, { ...o, numBeams: beams, lengthPenalty: o.lengthPenalty ?? 1 });
  return sampleOrGreedy(dec, prompts, o);
}

async function sampleOrGreedy(dec: Decoder, prompts: number[][], o: GenerateOptions): Promise<Generated[]> {
  const V = dec.model.cfg.V;
  const eos = new Set(o.eosIds);
  const rng = new Rng(o.seed ?? 0);
  const sampling = { temperature: o.temperature ?? 1, topP: o.topP ?? 1, topK: o.topK ?? 0 };
  const out: (Generated & { done: boolean })[] = prompts.map(() => ({ ids: [], stop: 'length', logp: 0, score: 0, done: false }));
  // slotOf[k]: the decoder slot sequence k occupies; compaction moves live sequences to the front.
  let live = prompts.map((_, k) => k); // sequences by slot
  let logits = await dec.prefill(prompts);
  for (let step = 0; ; step++) {
    for (let slot = 0; slot < live.length; slot++) {
      const r = out[live[slot]];
      if (r.done) continue;
      const off = slot * V;
      const t = o.doSample ? sampleToken(logits, sampling, rng, off, V) : argmax(logits, off, V);
      r.logp += tokenLogp(logits, t, off, V);
      if (eos.has(t)) {
        r.stop = 'eos';
        r.done = true;
        continue;
      }
      r.ids.push(t);
      if (o.isStopToken?.(t)) {
        r.stop = 'stop-token';
        r.done = true;
      } else if (r.ids.length >= o.maxNewTokens) r.done = true;
    }
    o.onStep?.(step + 1);
    const alive = live.filter((k) => !out[k].done);
    if (alive.length === 0) break;
    // Finished sequences would keep costing a row each step; once they are half the batch, drop them.
    if (alive.length <= live.length / 2) {
      dec.reorder(alive.map((k) => live.indexOf(k)));
      live = alive;
    }
    // A finished sequence still in the batch is fed its last token: its results are ignored.
    logits = await dec.step(live.map((k) => out[k].ids.at(-1) ?? 0));
  }
  return out.map(({ ids, stop, logp }) => ({ ids, stop, logp, score: logp }));
}
