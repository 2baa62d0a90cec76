// TRL's preference layouts: standard (prompt, chosen, rejected), implicit prompt (chosen and rejected only,
// sharing a prefix) and conversational (message lists), mixed freely row by row.
import type { ChatMessage, PreferenceRow, RowOrigin } from '../types.ts';
import { RowProblem, asMessages, asText, looksConversational, type Rec } from './fields.ts';

/**
 * TRL's extract_prompt (trl/data_utils.py): the prompt is the longest common prefix, stepped back one
 * character when the first difference follows a space so the space stays with the completions. Its
 * Python quirks are kept for identical splits: when one side is a prefix of the other the loop ends at
 * the last shared index, so the split falls one element early.
 */
export function extractPrompt<T extends string | readonly unknown[]>(chosen: T, rejected: T): { prompt: T; chosen: T; rejected: T } {
  const n = Math.min(chosen.length, rejected.length);
  let idx = 0;
  let diverged = false;
  for (idx = 0; idx < n; idx++) {
    if (!same(chosen[idx], rejected[idx])) {
      diverged = true;
      if (idx > 0 && chosen[idx - 1] === ' ') idx -= 1;
      break;
    }
  }
  if (!diverged) idx = Math.max(0, n - 1);
  return {
    prompt: chosen.slice(0, idx) as T,
    chosen: chosen.slice(idx) as T,
    rejected: rejected.slice(idx) as T,
  };
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && typeof b === 'object' && a && b) {
    const x = a as ChatMessage;
    const y = b as ChatMessage;
    return x.role === y.role && x.content === y.content;
  }
  return false;
}

export function convertTrl(rec: Rec, origin: RowOrigin, jsonCells: boolean, fields = { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' }): PreferenceRow {
  const base = { line: origin.line ?? origin.row, row: origin.row };
  const rawChosen = rec[fields.chosen];
  const rawRejected = rec[fields.rejected];
  const rawPrompt = rec[fields.prompt];
  if (rawChosen === undefined || rawChosen === null) throw new RowProblem(fields.chosen, 'missing-field', `${fields.chosen} is missing`);
  if (rawRejected === undefined || rawRejected === null) throw new RowProblem(fields.rejected, 'missing-field', `${fields.rejected} is missing`);
  const chat = looksConversational(rawChosen, jsonCells);
  const implicit = !(fields.prompt in rec);

  if (!chat) {
    const chosen = asText(rawChosen, fields.chosen, implicit);
    const rejected = asText(rawRejected, fields.rejected, implicit);
    if (implicit) {
      const split = extractPrompt(chosen, rejected);
      if (split.prompt.trim() === '') throw new RowProblem(undefined, 'empty-text', 'no prompt: chosen and rejected share no prefix');
      if (split.chosen.trim() === '') throw new RowProblem(fields.chosen, 'empty-text', `${fields.chosen} is empty after removing the shared prompt`);
      if (split.rejected.trim() === '') throw new RowProblem(fields.rejected, 'empty-text', `${fields.rejected} is empty after removing the shared prompt`);
      return { kind: 'text', ...base, ...split };
    }
    const prompt = asText(rawPrompt, fields.prompt);
    return { kind: 'text', ...base, prompt, chosen, rejected };
  }

  let chosen = asMessages(rawChosen, fields.chosen, jsonCells);
  let rejected = asMessages(rawRejected, fields.rejected, jsonCells);
  let prompt: ChatMessage[];
  if (implicit) {
    const split = extractPrompt(chosen, rejected);
    prompt = split.prompt;
    chosen = split.chosen;
    rejected = split.rejected;
    if (!prompt.length) throw new RowProblem(undefined, 'empty-text', 'no prompt: chosen and rejected share no leading messages');
  } else {
    if (typeof rawPrompt === 'string' && !jsonCells) {
      throw new RowProblem(fields.prompt, 'non-string-field', `${fields.prompt} is text but ${fields.chosen} is a message list`);
    }
    prompt = asMessages(rawPrompt, fields.prompt, jsonCells);
    if (!prompt.length) throw new RowProblem(fields.prompt, 'empty-text', `${fields.prompt} has no messages`);
  }
  checkCompletion(chosen, fields.chosen);
  checkCompletion(rejected, fields.rejected);
  return { kind: 'chat', ...base, prompt, chosen, rejected };
}

function checkCompletion(msgs: ChatMessage[], field: string): void {
  if (!msgs.length) throw new RowProblem(field, 'empty-text', `${field} has no messages`);
  if (msgs.every((m) => m.content.trim() === '')) throw new RowProblem(field, 'empty-text', `${field} has only empty messages`);
}
