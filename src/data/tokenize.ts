// TRL's CPOTrainer tokenization (tokenize_row / build_tokenized_answer) and ALMA's long-prompt filter.
//
// The prompt and prompt+answer are encoded without special tokens; the answer is the tail of the joint
// encoding after the prompt's length, stepped back one token when the prompt's last token merged with
// the answer's first (Llama's SentencePiece does this). BOS goes in front of the prompt unless it is
// already there, EOS after each answer unless already there.
//
// When chosen and rejected disagree on where the prompt ends (a merge on one side only), the shared prompt is
// the shorter one and the other side keeps its extra prompt token as a prompt tail: masked, as TRL masks it
// (scoring it measured loss 14.198 against TRL's 14.708 on such a pair). Such rows are counted
// (boundaryMismatches).
//
// Truncation, truncation 'trl-1.13' (the default, TRL 1.13's CPOTrainer.tokenize_row): prompts are never cut;
// when a side's prompt + the longer answer exceeds maxLength, that side's answer is cut to
// maxLength − (longer answer's length), as a Python slice (a negative bound counts from the end).
// 'trl-legacy' is the rule of TRL before 1.13: the prompt is cut to maxPromptLength first (keep_end keeps its
// end, keep_start its start), then both answers to maxLength − maxPromptLength if still too long.
//
// Longer than the model: a row still longer than the model's max_position_embeddings after truncation (TRL 1.13
// keeps a long prompt whole) cannot be scored faithfully (no position past the RoPE tables; its workspace grows
// with it: a 1 MB row planned 7.5 GB), so it is set aside with a 'too-long' issue naming its lengths. Rows kept
// longer than max_length (a long prompt, as TRL keeps it) are counted in the summary. Before any of that, a field
// longer than MAX_CHARS_PER_TOKEN characters per token of the limit is set aside unread: tokenizing it is the
// only way to know TRL's exact cut, and a 50 MB row took minutes (a hang) to tokenize for a cut that keeps at
// most 1/32 of it.
import type { TextTokenizer } from '../model/tokenizer.ts';
import type { ChatMessage, LengthHistogram, PreferenceRow, RowIssue, TokenizationSummary, TokenizedPair, TokenLengthStats, ValidationReport } from './types.ts';
import { addIssue } from './report.ts';

export type TruncationMode = 'keep_end' | 'keep_start';
export type TruncationRule = 'trl-1.13' | 'trl-legacy';

export interface TokenizeOptions {
  /** TRL CPOConfig max_length (default 1024). */
  maxLength?: number;
  /** TRL CPOConfig max_prompt_length (default 512): the legacy rule's prompt cut, and ALMA's max_source_length for dropLongPrompts. */
  maxPromptLength?: number;
  /** 'trl-1.13' (default): TRL 1.13's rule; 'trl-legacy': TRL's rule before 1.13 (see the header). */
  truncation?: TruncationRule;
  /** Legacy rule only: which end of a long prompt to keep. */
  truncationMode?: TruncationMode;
  /** ALMA: drop rows whose prompt (with BOS) is longer than maxPromptLength instead of truncating it. */
  dropLongPrompts?: boolean;
  /** The model's max_position_embeddings: rows longer after truncation are set aside (see the header). */
  maxPositions?: number;
  /** Upper bin edges for the length histogram. */
  histogramEdges?: number[];
  /** Rows tokenized so far of all rows: every PROGRESS_EVERY rows and at the end (the studio shows it). */
  onProgress?: (done: number, total: number) => void;
}

/** Rows between progress calls: a few per second at the 1-4 ms a row BPE takes on long pairs. */
export const PROGRESS_EVERY = 256;

export interface TokenizeResult {
  pairs: TokenizedPair[];
  summary: TokenizationSummary;
  /** Rows dropped during tokenization (prompt-too-long, tokenization). */
  issues: RowIssue[];
}

const DEFAULT_EDGES = [32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 4096];

/**
 * Characters per token past which a field is not tokenized (see the header). Text runs about 4 characters per
 * token in the tokenizers we load (the demo set: 3.6 on the tiny model); 32 leaves room for long tokens (runs of
 * spaces in code) while a field over it is at least 8 times the limit.
 */
export const MAX_CHARS_PER_TOKEN = 32;

export function tokenizePairs(rows: PreferenceRow[], tokenizer: TextTokenizer, options: TokenizeOptions = {}): TokenizeResult {
  const maxLength = options.maxLength ?? 1024;
  const maxPromptLength = options.maxPromptLength ?? 512;
  const mode = options.truncationMode ?? 'keep_end';
  const legacy = options.truncation === 'trl-legacy';
  const edges = options.histogramEdges ?? DEFAULT_EDGES;
  if (legacy && maxPromptLength >= maxLength) throw new Error(`maxPromptLength (${maxPromptLength}) must be below maxLength (${maxLength})`);
  if (rows.some((r) => r.kind === 'chat') && !tokenizer.applyChatTemplate) {
    throw new Error('conversational rows need a chat template, and this tokenizer has none (use a chat model\'s tokenizer, or plain-text rows)');
  }

  const pairs: TokenizedPair[] = [];
  const issues: RowIssue[] = [];
  const acc = { prompt: stats(), chosen: stats(), rejected: stats() };
  const histogram: LengthHistogram = { edges: [...edges], counts: new Array(edges.length + 1).fill(0) };
  let truncatedPrompts = 0;
  let truncatedCompletions = 0;
  let droppedLongPrompts = 0;
  let boundaryMismatches = 0;
  let droppedTooLong = 0;
  let overMaxLength = 0;
  const maxPositions = options.maxPositions ?? Infinity;
  const charCap = Math.min(maxPositions, maxLength) * MAX_CHARS_PER_TOKEN;

  rows.forEach((row, index) => {
    if (index % PROGRESS_EVERY === 0) options.onProgress?.(index, rows.length);
    const where = { row: row.row, line: row.line };
    let text: { prompt: string; chosen: string; rejected: string };
    try {
      text = row.kind === 'text' ? row : renderChat(row.prompt, row.chosen, row.rejected, tokenizer);
    } catch (e) {
      issues.push({ ...where, reason: 'tokenization', message: (e as Error).message });
      return;
    }
    const huge = (['prompt', 'chosen', 'rejected'] as const).find((f) => text[f].length > charCap);
    if (huge) {
      droppedTooLong++;
      const of = Math.min(maxPositions, maxLength) === maxPositions ? `the model's ${maxPositions} positions (max_position_embeddings)` : `max_length ${maxLength}`;
      issues.push({ ...where, field: huge, reason: 'too-long', message: `${huge} is ${text[huge].length.toLocaleString('en-US')} characters, over ${MAX_CHARS_PER_TOKEN} per token of ${of}: set aside without tokenizing` });
      return;
    }
    const promptIds = tokenizer.encode(text.prompt);
    const c = buildTokenizedAnswer(tokenizer, text.prompt, text.chosen, promptIds);
    const r = buildTokenizedAnswer(tokenizer, text.prompt, text.rejected, promptIds);
    let prompt: number[];
    let chosenIds = c.answer;
    let rejectedIds = r.answer;
    let chosenTail: number[] = [];
    let rejectedTail: number[] = [];
    if (sameIds(c.prompt, r.prompt)) prompt = c.prompt;
    else if (c.prompt.length + 1 === r.prompt.length && isPrefix(c.prompt, r.prompt)) {
      prompt = c.prompt;
      rejectedTail = [r.prompt[r.prompt.length - 1]];
      boundaryMismatches++;
    } else if (r.prompt.length + 1 === c.prompt.length && isPrefix(r.prompt, c.prompt)) {
      prompt = r.prompt;
      chosenTail = [c.prompt[c.prompt.length - 1]];
      boundaryMismatches++;
    } else {
      issues.push({ ...where, reason: 'tokenization', message: 'chosen and rejected tokenize the prompt differently (beyond a single merged token)' });
      return;
    }
    if (tokenizer.bosId !== null && prompt[0] !== tokenizer.bosId) prompt = [tokenizer.bosId, ...prompt];
    if (tokenizer.eosId !== null) {
      if (chosenIds[chosenIds.length - 1] !== tokenizer.eosId) chosenIds = [...chosenIds, tokenizer.eosId];
      if (rejectedIds[rejectedIds.length - 1] !== tokenizer.eosId) rejectedIds = [...rejectedIds, tokenizer.eosId];
    }
    if (options.dropLongPrompts && prompt.length > maxPromptLength) {
      droppedLongPrompts++;
      issues.push({ ...where, field: 'prompt', reason: 'prompt-too-long', message: `prompt is ${prompt.length} tokens, over max_prompt_length ${maxPromptLength}` });
      return;
    }
    const longer = Math.max(chosenIds.length, rejectedIds.length);
    // The histogram counts lengths before truncation: drawn after it, it showed nothing past max_length even
    // when completions were cut, which hid the reason to raise the limit.
    const fullLength = prompt.length + longer;
    if (legacy) {
      if (prompt.length + longer > maxLength) {
        const cut = mode === 'keep_start' ? prompt.slice(0, maxPromptLength) : prompt.slice(-maxPromptLength);
        if (cut.length !== prompt.length) truncatedPrompts++;
        prompt = cut;
      }
      if (prompt.length + longer > maxLength) {
        const keep = maxLength - maxPromptLength;
        chosenIds = chosenIds.slice(0, keep);
        rejectedIds = rejectedIds.slice(0, keep);
        truncatedCompletions++;
      }
    } else {
      // Each side against its own prompt length, cut to maxLength − longer as Python's [: n] (JS slice agrees,
      // negative n included).
      const keep = maxLength - longer;
      let cut = false;
      if (prompt.length + chosenTail.length + longer > maxLength) {
        chosenIds = chosenIds.slice(0, keep);
        cut = true;
      }
      if (prompt.length + rejectedTail.length + longer > maxLength) {
        rejectedIds = rejectedIds.slice(0, keep);
        cut = true;
      }
      if (cut) truncatedCompletions++;
      if (chosenIds.length === 0 || rejectedIds.length === 0) {
        issues.push({ ...where, reason: 'tokenization', message: `an answer is cut to nothing: prompt ${prompt.length} + longer answer ${longer} tokens exceed max_length ${maxLength}, and TRL 1.13 cuts answers to max_length − ${longer}` });
        return;
      }
    }
    const longest = prompt.length + Math.max(chosenTail.length + chosenIds.length, rejectedTail.length + rejectedIds.length);
    if (longest > maxPositions) {
      droppedTooLong++;
      issues.push({
        ...where,
        reason: 'too-long',
        message: `${longest} tokens after truncation (prompt ${prompt.length}), over the model's ${maxPositions} positions (max_position_embeddings): set aside${legacy ? '' : ' (TRL 1.13 never cuts a prompt)'}`,
      });
      return;
    }
    if (longest > maxLength) overMaxLength++;
    const pair: TokenizedPair = { index, promptIds: prompt, chosenIds, rejectedIds };
    if (chosenTail.length) pair.chosenPromptTail = chosenTail;
    if (rejectedTail.length) pair.rejectedPromptTail = rejectedTail;
    pairs.push(pair);
    add(acc.prompt, prompt.length);
    add(acc.chosen, chosenIds.length);
    add(acc.rejected, rejectedIds.length);
    let bin = edges.findIndex((e) => fullLength <= e);
    if (bin < 0) bin = edges.length;
    histogram.counts[bin]++;
  });
  options.onProgress?.(rows.length, rows.length);

  return {
    pairs,
    issues,
    summary: {
      pairs: pairs.length,
      prompt: finish(acc.prompt),
      chosen: finish(acc.chosen),
      rejected: finish(acc.rejected),
      histogram,
      truncatedPrompts,
      truncatedCompletions,
      droppedLongPrompts,
      boundaryMismatches,
      droppedTooLong,
      overMaxLength,
    },
  };
}

/** TRL's build_tokenized_answer: prompt ids as they appear inside enc(prompt + answer), and the rest. */
export function buildTokenizedAnswer(
  tokenizer: TextTokenizer,
  prompt: string,
  answer: string,
  promptIds = tokenizer.encode(prompt),
): { prompt: number[]; answer: number[] } {
  const full = tokenizer.encode(prompt + answer);
  let start = promptIds.length;
  if (!isPrefix(promptIds, full)) start -= 1;
  start = Math.max(0, Math.min(start, full.length));
  return { prompt: full.slice(0, start), answer: full.slice(start) };
}

/**
 * TRL's apply_chat_template for preference rows: the prompt rendered with a generation prompt when it
 * ends on a user turn, and each completion as the text the full conversation adds after it.
 */
export function renderChat(prompt: ChatMessage[], chosen: ChatMessage[], rejected: ChatMessage[], tokenizer: TextTokenizer) {
  const apply = tokenizer.applyChatTemplate!.bind(tokenizer);
  const p = apply(prompt, prompt[prompt.length - 1]?.role === 'user');
  const tail = (answer: ChatMessage[], which: string) => {
    const full = apply([...prompt, ...answer], false);
    if (!full.startsWith(p)) throw new Error(`the chat template renders prompt + ${which} so that it does not start with the rendered prompt`);
    return full.slice(p.length);
  };
  return { prompt: p, chosen: tail(chosen, 'chosen'), rejected: tail(rejected, 'rejected') };
}

/** The report with tokenization added: its summary, its dropped rows as issues, and the usable count updated. */
export function withTokenization(report: ValidationReport, result: TokenizeResult): ValidationReport {
  const out: ValidationReport = { ...report, counts: { ...report.counts }, issues: [...report.issues], tokenization: result.summary };
  for (const i of result.issues) addIssue(out, i);
  out.rowsUsable = result.pairs.length;
  return out;
}

function isPrefix(a: number[], b: number[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && isPrefix(a, b);
}

function stats() {
  return { total: 0, min: Infinity, max: 0, n: 0 };
}
function add(s: ReturnType<typeof stats>, v: number) {
  s.total += v;
  s.n++;
  if (v < s.min) s.min = v;
  if (v > s.max) s.max = v;
}
function finish(s: ReturnType<typeof stats>): TokenLengthStats {
  return { total: s.total, min: s.n ? s.min : 0, max: s.max, mean: s.n ? s.total / s.n : 0 };
}
