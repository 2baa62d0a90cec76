// What a decoding call takes and returns; apart from generate.ts so beam.ts can use them without importing
// the module that imports it (no generate ↔ beam cycle).

export type StopReason = 'eos' | 'stop-token' | 'length';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Tokens that end a sequence; they are not part of the output. */
  eosIds: number[];
  /** Tokens that end a sequence but stay in the output (e.g. whose text contains a newline: ALMA). */
  isStopToken?: (id: number) => boolean;
  /** Apply the decoder's adapter (default true). */
  useLora?: boolean;
  /** > 1: beam search (deterministic; sampling options are ignored). */
  numBeams?: number;
  /** Beam search: hypotheses are ranked by Σ log p / length^lengthPenalty (transformers' default 1.0). */
  lengthPenalty?: number;
  /** Sample instead of taking the most likely token. */
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Called after each decode step with the number of new tokens so far. */
  onStep?: (step: number) => void;
}

export interface Generated {
  /** New tokens: EOS excluded, a stop token (isStopToken) included as the last one. */
  ids: number[];
  stop: StopReason;
  /** Σ log p of the new tokens under the model (untempered), EOS included when it ended the sequence. */
  logp: number;
  /** Beam search's ranking score logp / length^lengthPenalty; logp otherwise. */
  score: number;
}
