// Lays a micro-batch of preference pairs out as the GPU sees it, in one of two layouts, and the S "selected"
// positions whose next token is a completion token — the only rows the output head computes:
//   layoutPairs: 2B right-padded sequences (all chosen first, then all rejected, as TRL's concatenated_forward);
//   layoutSharedPrompt: one right-padded sequence per pair, [prompt | chosen | rejected], whose prompt rows run
//   once: the rejected rows attend to the prompt and themselves, never to the chosen ones, and their positions
//   restart after the prompt (a branch layout: AttnShape.branch, RoPE positions). Causal attention means the
//   prompt rows compute exactly what they compute in either sequence of the first layout, so both layouts give
//   the same log-probs and gradients (the backward sums both branches' gradients into the prompt rows by itself:
//   both branches' queries read the prompt's keys and values).

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
  nSeq: number; // scored sequences: 2B (all chosen, then all rejected), or B (chosen only)
  rowSeqs: number; // sequences in the row layout: nSeq, or B in the shared-prompt layout
  T: number; // padded length of a row sequence
  M: number; // rows: rowSeqs * T
  ids: Uint32Array; // (M) token ids, padding = padId
  lengths: Uint32Array; // (rowSeqs) tokens per row sequence
  S: number; // selected positions: completion tokens over all scored sequences
  rows: Uint32Array; // (S) row index seq*T + t of the position predicting a completion token
  labels: Uint32Array; // (S) the completion token predicted there
  offsets: Uint32Array; // (nSeq + 1) segment boundaries in rows/labels, per scored sequence
  completionLengths: number[]; // (nSeq)
  /** The shared-prompt layout's branches, per pair, and every row's RoPE position. */
  shared?: SharedPrompt;
}

export interface SharedPrompt {
  promptLen: Uint32Array; // (B) rows of the shared prompt, [0, promptLen)
  branchStart: Uint32Array; // (B) first row of the rejected branch; the chosen one is [promptLen, branchStart)
  positions: Uint32Array; // (M) u32 RoPE position of each row: t, or t - (branchStart - promptLen) in the rejected branch
}

/** Tokens the two-sequence layout runs for these pairs (the prompt twice): what the data holds, in either layout. */
export function pairTokens(pairs: PairIds[]): number {
  const side = (tail: number[] | undefined, c: number[]) => (tail?.length ?? 0) + c.length;
  return pairs.reduce((a, p) => a + 2 * p.promptIds.length + side(p.chosenPromptTail, p.chosenIds) + side(p.rejectedPromptTail, p.rejectedIds), 0);
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
  return { B, nSeq, rowSeqs: nSeq, T, M, ids, lengths, S, rows, labels, offsets, completionLengths: list.map((s) => s.completion.length) };
}

/**
 * The shared-prompt layout: pair i is one sequence, the prompt's first P − 1 tokens (shared), then the chosen branch
 * (the prompt's last token, the chosen prompt tail, the chosen completion), then the rejected branch (the same for
 * rejected). The last prompt token starts each branch so that the rows predicting the two first completion tokens
 * are distinct rows (one row, one prediction), at the cost of one token per pair. Scored sequences, offsets and
 * completionLengths are as in layoutPairs (chosen 0..B-1, rejected B..2B-1).
 */
export function layoutSharedPrompt(pairs: PairIds[], padId = 0): SequenceBatch {
  const B = pairs.length;
  const laid = pairs.map((p) => {
    const shared = p.promptIds.slice(0, Math.max(0, p.promptIds.length - 1));
    const last = p.promptIds.slice(shared.length);
    const branch = (tail: number[] | undefined, completion: number[]) => {
      const prompt = [...last, ...(tail ?? [])];
      if (prompt.length === 0) throw new Error('a sequence has an empty prompt: the first completion token would have no position predicting it');
      if (completion.length === 0) throw new Error('a sequence has an empty completion');
      return { prompt, completion };
    };
    return { shared, chosen: branch(p.chosenPromptTail, p.chosenIds), rejected: branch(p.rejectedPromptTail, p.rejectedIds) };
  });
  const len = (b: { prompt: number[]; completion: number[] }) => b.prompt.length + b.completion.length;
  const T = Math.max(1, ...laid.map((l) => l.shared.length + len(l.chosen) + len(l.rejected)));
  const M = B * T;
  const ids = new Uint32Array(M).fill(padId);
  const lengths = new Uint32Array(B);
  const promptLen = new Uint32Array(B);
  const branchStart = new Uint32Array(B);
  const positions = new Uint32Array(M);
  laid.forEach((l, i) => {
    const seq = [...l.shared, ...l.chosen.prompt, ...l.chosen.completion, ...l.rejected.prompt, ...l.rejected.completion];
    ids.set(seq, i * T);
    lengths[i] = seq.length;
    promptLen[i] = l.shared.length;
    branchStart[i] = l.shared.length + len(l.chosen);
    const restart = branchStart[i] - promptLen[i];
    for (let t = 0; t < T; t++) positions[i * T + t] = t < branchStart[i] ? t : t - restart;
  });
  const S = laid.reduce((a, l) => a + l.chosen.completion.length + l.rejected.completion.length, 0);
  const rows = new Uint32Array(S);
  const labels = new Uint32Array(S);
  const offsets = new Uint32Array(2 * B + 1);
  let k = 0;
  for (const side of ['chosen', 'rejected'] as const) {
    laid.forEach((l, i) => {
      offsets[(side === 'chosen' ? 0 : B) + i] = k;
      const b = l[side];
      // The branch's row t (from its start) predicts its token t + 1: rows prompt-1 .. end-2 predict the completion.
      const start = i * T + (side === 'chosen' ? promptLen[i] : branchStart[i]);
      const seq = [...b.prompt, ...b.completion];
      for (let t = b.prompt.length - 1; t < seq.length - 1; t++) {
        rows[k] = start + t;
        labels[k] = seq[t + 1];
        k++;
      }
    });
  }
  offsets[2 * B] = k;
  const completionLengths = [...laid.map((l) => l.chosen.completion.length), ...laid.map((l) => l.rejected.completion.length)];
  return { B, nSeq: 2 * B, rowSeqs: B, T, M, ids, lengths, S, rows, labels, offsets, completionLengths, shared: { promptLen, branchStart, positions } };
}

/**
 * The padded length T each pair needs in a layout: its one sequence in the shared-prompt layout (the prompt's last
 * token starts both branches), else its longer sequence (layoutPairs pads both to it).
 */
export function pairLengths(pairs: PairIds[], sharedPrompt: boolean): number[] {
  return pairs.map((p) => {
    const P = p.promptIds.length;
    const chosen = (p.chosenPromptTail?.length ?? 0) + p.chosenIds.length;
    const rejected = (p.rejectedPromptTail?.length ?? 0) + p.rejectedIds.length;
    return sharedPrompt ? Math.max(0, P - 1) + 2 * Math.min(P, 1) + chosen + rejected : P + Math.max(chosen, rejected);
  });
}

/**
 * A micro-batch's pairs in groups of similar length, each to run padded only to its own longest (train/step.ts):
 * `need` holds the T each pair needs (pairLengths) and every pair takes `seqsPerPair` rows of T. The pairs are
 * sorted by need and cut into the groups of fewest padded rows, where each cut must save an eighth of the unsplit
 * batch's rows: a group is one more forward and backward to submit and read back. The demo's first 8 WMT22 pairs in
 * the shared-prompt layout: 1048 rows in one group, 784 in two (690 hold tokens). Each group lists pair indices in
 * ascending order; the longest group comes first, so a workspace sized by it holds the others.
 */
export function lengthGroups(need: number[], seqsPerPair: number): number[][] {
  const B = need.length;
  const order = need.map((_, i) => i).sort((a, b) => need[a] - need[b] || a - b);
  // Cuts fall only where the need changes: a pair of its group's own length costs the same there as in the next
  // group (no shorter), and a cut costs more. So the search runs over the D distinct lengths, O(D²): 20000 pairs of
  // 300 lengths in 25 ms, where trying every position, O(B²), took 1.2 s.
  const ends: number[] = []; // in sorted order, one past each run of equal need
  for (let j = 1; j <= B; j++) if (j === B || need[order[j]] !== need[order[j - 1]]) ends.push(j);
  const startOf = (r: number) => (r ? ends[r - 1] : 0); // the first pair after the first r runs
  const cutCost = (B * seqsPerPair * (B ? need[order[B - 1]] : 0)) / 8;
  // best[r]: fewest rows (cuts counted at cutCost) for the first r runs; from[r]: the runs before their last group.
  const best = [0];
  const from = [0];
  for (let r = 1; r <= ends.length; r++) {
    const len = need[order[ends[r - 1] - 1]];
    best[r] = Infinity;
    for (let q = 0; q < r; q++) {
      const cost = best[q] + (q > 0 ? cutCost : 0) + (ends[r - 1] - startOf(q)) * seqsPerPair * len;
      if (cost < best[r]) [best[r], from[r]] = [cost, q];
    }
  }
  const groups: number[][] = [];
  for (let r = ends.length; r > 0; r = from[r]) groups.push(order.slice(startOf(from[r]), ends[r - 1]).sort((a, b) => a - b));
  return groups.length ? groups : [[]];
}
