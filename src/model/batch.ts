// Lays a micro-batch of preference pairs out as the GPU sees it: 2B right-padded sequences
// (all chosen first, then all rejected, as TRL's concatenated_forward), and the S "selected" positions
// whose next token is a completion token — the only rows the output head computes.

export interface PairIds {
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  /**
   * Prompt tokens of one side only, after the shared prompt: masked like the prompt, never scored. TRL's
   * tokenization gives the side whose prompt did not merge with its answer one more prompt token.
   */
  chosenPromptTail?: number[];
  rejectedPromptTail?: number[];
}

export interface SequenceBatch {
  B: number; // pairs
  nSeq: number; // sequences: 2B
  T: number; // padded length
  M: number; // rows: nSeq * T
  ids: Uint32Array; // (M) token ids, padding = padId
  lengths: Uint32Array; // (nSeq) tokens per sequence
  S: number; // selected positions: completion tokens over all sequences
  rows: Uint32Array; // (S) row index seq*T + t of the position predicting a completion token
  labels: Uint32Array; // (S) the completion token predicted there
  offsets: Uint32Array; // (nSeq + 1) segment boundaries in rows/labels, per sequence
  completionLengths: number[]; // (nSeq)
}

export function layoutPairs(pairs: PairIds[], padId = 0, seqs?: 'both' | 'chosen'): SequenceBatch {
  const B = pairs.length;
  const both = seqs !== 'chosen';
  const list: { prompt: number[]; completion: number[] }[] = [];
  const side = (prompt: number[], tail: number[] | undefined) => (tail?.length ? [...prompt, ...tail] : prompt);
  for (const p of pairs) list.push({ prompt: side(p.promptIds, p.chosenPromptTail), completion: p.chosenIds });
  if (both) for (const p of pairs) list.push({ prompt: side(p.promptIds, p.rejectedPromptTail), completion: p.rejectedIds });
  const nSeq = list.length;
  let T = 1;
  for (const s of list) {
    if (s.prompt.length === 0) throw new Error('a sequence has an empty prompt: the first completion token would have no position predicting it');
    if (s.completion.length === 0) throw new Error('a sequence has an empty completion');
    T = Math.max(T, s.prompt.length + s.completion.length);
  }
  const M = nSeq * T;
  const ids = new Uint32Array(M).fill(padId);
  const lengths = new Uint32Array(nSeq);
  const S = list.reduce((a, s) => a + s.completion.length, 0);
  const rows = new Uint32Array(S);
  const labels = new Uint32Array(S);
  const offsets = new Uint32Array(nSeq + 1);
  let k = 0;
  list.forEach((s, i) => {
    const seq = [...s.prompt, ...s.completion];
    ids.set(seq, i * T);
    lengths[i] = seq.length;
    offsets[i] = k;
    // Position t predicts token t+1; the completion starts at P, so positions P-1 .. len-2 are selected.
    const P = s.prompt.length;
    for (let t = P - 1; t < seq.length - 1; t++) {
      rows[k] = i * T + t;
      labels[k] = seq[t + 1];
      k++;
    }
  });
  offsets[nSeq] = k;
  return { B, nSeq, T, M, ids, lengths, S, rows, labels, offsets, completionLengths: list.map((s) => s.completion.length) };
}
