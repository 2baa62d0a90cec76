// The model's candidates for a batch of sources, through src/generate: N samples per source (temperature, top-p,
// a seed) or the top N hypotheses of a beam search, with the ALMA prompt, stopping at EOS or the first newline.
import { almaPrompt } from '../data/rows/languages.ts';
import { beamSearchAll, eosIds, generate, generatedText, newlinePredicate, promptIds, reserveFor, type Decoder } from '../generate/index.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import { rowSeed } from './select.ts';
import type { ParallelRow } from './types.ts';

export interface CandidateOptions {
  /** Candidates asked of the model per source (0: only the reference and the given systems). */
  n: number;
  strategy: 'sample' | 'beam';
  temperature: number;
  topP: number;
  seed: number;
  maxNewTokens: number;
  /** Decode with the adapter (when the decoder has one). */
  useLora: boolean;
}

export const DEFAULT_CANDIDATES: CandidateOptions = { n: 8, strategy: 'sample', temperature: 0.8, topP: 0.95, seed: 0, maxNewTokens: 256, useLora: true };

export interface BatchCandidates {
  /** Per row, the model's texts in sample order (or beam rank). */
  texts: string[][];
  /** New tokens decoded (stop tokens included, EOS not). */
  tokens: number;
}

/** What the builder asks for each batch; the batch index makes the sampling seed independent of earlier batches. */
export type CandidateSource = (rows: readonly ParallelRow[], batchIndex: number) => Promise<BatchCandidates>;

export function checkCandidateOptions(o: CandidateOptions): void {
  if (!(Number.isInteger(o.n) && o.n >= 0)) throw new Error(`candidates: must be a whole number ≥ 0, got ${o.n}`);
  if (o.strategy !== 'sample' && o.strategy !== 'beam') throw new Error(`strategy: expected sample or beam, got ${JSON.stringify(o.strategy)}`);
  if (!(o.temperature > 0)) throw new Error(`temperature: must be > 0, got ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new Error(`top-p: must be in (0, 1], got ${o.topP}`);
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 1)) throw new Error(`max-new-tokens: must be a positive integer, got ${o.maxNewTokens}`);
}

/**
 * Candidates from a decoder. Sampling decodes each source N times in one batch (rows × N sequences) from one
 * seeded generator per batch, so the texts depend on (seed, batch index, batch rows) only: a resumed build that
 * restarts at a batch boundary draws what the uninterrupted one drew.
 */
export function decoderCandidates(dec: Decoder, tokenizer: TextTokenizer, o: CandidateOptions): CandidateSource {
  checkCandidateOptions(o);
  const eos = eosIds(dec.model.cfg.eosId, tokenizer);
  const isStopToken = newlinePredicate(tokenizer);
  return async (rows, batchIndex) => {
    if (o.n === 0 || rows.length === 0) return { texts: rows.map(() => []), tokens: 0 };
    const prompts = rows.map((r) => promptIds(tokenizer, almaPrompt(r.src, r.tgt, r.source)));
    const base = { maxNewTokens: o.maxNewTokens, eosIds: eos, isStopToken, useLora: o.useLora };
    let gens;
    if (o.strategy === 'beam') {
      dec.useLora = o.useLora;
      reserveFor(dec, prompts, { maxNewTokens: o.maxNewTokens, numBeams: o.n });
      gens = await beamSearchAll(dec, prompts, { ...base, numBeams: o.n, lengthPenalty: 1 });
    } else {
      const flat = await generate(dec, prompts.flatMap((p) => Array.from({ length: o.n }, () => p)), {
        ...base,
        doSample: true,
        temperature: o.temperature,
        topP: o.topP,
        seed: rowSeed(o.seed, batchIndex),
      });
      gens = rows.map((_, i) => flat.slice(i * o.n, (i + 1) * o.n));
    }
    let tokens = 0;
    const texts = gens.map((list) =>
      list.map((g) => {
        tokens += g.ids.length;
        return generatedText(tokenizer, g, true);
      }),
    );
    return { texts, tokens };
  };
}
