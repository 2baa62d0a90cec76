import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport, readPreferenceFile, tokenizePairs, withTokenization, type PreferenceRow, type ValidationReport } from '../../src/data/index.ts';
import { MAX_CHARS_PER_TOKEN } from '../../src/data/tokenize.ts';
import { loadTokenizer } from '../../src/io/tokenizer.ts';
import type { ChatMessage } from '../../src/model/tokenizer.ts';
import { GreedyTokenizer, jsonl, memFile } from './helpers.ts';

const emptyReport = (): ValidationReport => ({ file: 'd.jsonl', container: 'jsonl', format: 'trl', bytesRead: 0, rowsRead: 0, rowsUsable: 0, counts: {}, issues: [], issuesOmitted: 0, languagePairs: {}, warnings: [], blankLines: 0, skippedDirections: 0 });
const row = (prompt: string, chosen: string, rejected: string, n = 1): PreferenceRow => ({ kind: 'text', prompt, chosen, rejected, line: n, row: n });

describe('TRL tokenization and masking', () => {
  it('prompt without special tokens plus BOS; completions as the tail of the joint encoding plus EOS', () => {
    const tok = new GreedyTokenizer([' blue', ' green']);
    const { pairs, summary } = tokenizePairs([row('The sky is', ' blue', ' green')], tok);
    const p = pairs[0];
    expect(p.index).toBe(0);
    expect(p.promptIds).toEqual([1, ...tok.encode('The sky is')]);
    expect(p.chosenIds).toEqual([...tok.encode(' blue'), 2]);
    expect(p.rejectedIds).toEqual([...tok.encode(' green'), 2]);
    expect(tok.decode(p.chosenIds)).toBe(' blue</s>');
    expect(summary).toMatchObject({ pairs: 1, truncatedPrompts: 0, boundaryMismatches: 0 });
  });

  it("applies build_tokenized_answer's adjustment when the last prompt token merges with the answer", () => {
    // "ab" is one token: prompt "xa" + answer "b…" encodes as [x, ab, …], so the prompt keeps only [x].
    const tok = new GreedyTokenizer(['ab']);
    const [x, a, b, c] = ['x', 'a', 'b', 'c'].map((s) => tok.encode(s)[0]);
    const ab = tok.encode('ab')[0];
    const both = tokenizePairs([row('xa', 'bc', 'bb')], tok).pairs[0];
    expect(both.promptIds).toEqual([1, x]);
    expect(both.chosenIds).toEqual([ab, c, 2]);
    expect(both.rejectedIds).toEqual([ab, b, 2]);
    // Merge on the chosen side only: the shared prompt is the shorter one; the rejected side keeps "a" as a
    // masked prompt tail, as TRL masks it.
    const one = tokenizePairs([row('xa', 'bc', 'cc')], tok);
    expect(one.pairs[0].promptIds).toEqual([1, x]);
    expect(one.pairs[0].chosenIds).toEqual([ab, c, 2]);
    expect(one.pairs[0].rejectedPromptTail).toEqual([a]);
    expect(one.pairs[0].rejectedIds).toEqual([c, c, 2]);
    expect(one.pairs[0].chosenPromptTail).toBeUndefined();
    expect(one.summary.boundaryMismatches).toBe(1);
    // Full sequences still equal TRL's chosen/rejected input_ids.
    expect([...one.pairs[0].promptIds, ...one.pairs[0].rejectedPromptTail!, ...one.pairs[0].rejectedIds]).toEqual([1, ...tok.encode('xacc'), 2]);
  });

  it('does not add BOS or EOS twice, nor when the tokenizer has none', () => {
    const tok = new GreedyTokenizer(['<s>', '</s>']);
    const p = tokenizePairs([row('<s>Hi', ' yo</s>', ' no')], tok).pairs[0];
    expect(p.promptIds.filter((t) => t === 1)).toHaveLength(1);
    expect(p.chosenIds.filter((t) => t === 2)).toHaveLength(1);
    tok.bosId = null;
    tok.eosId = null;
    const q = tokenizePairs([row('Hi', ' yo', ' no')], tok).pairs[0];
    expect(q.promptIds).toEqual(tok.encode('Hi'));
    expect(q.chosenIds).toEqual(tok.encode(' yo'));
  });

  it("matches TRL 1.13's tokenize_row with a real tokenizer: ids, masked labels, merges on one side, truncation", async () => {
    // Made by scripts/make-trl-tokenize-fixtures.py (TRL 1.13 itself on public/models/tiny's tokenizer).
    const fx = JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures/trl-1.13-tokenize.json'), 'utf8')) as {
      cases: { max_length: number; prompt: string; chosen: string; rejected: string; chosen_input_ids: number[]; chosen_labels: number[]; rejected_input_ids: number[]; rejected_labels: number[] }[];
    };
    const dir = resolve(import.meta.dirname, '../../public/models/tiny');
    const tok = await loadTokenizer({
      tokenizerJson: JSON.parse(readFileSync(resolve(dir, 'tokenizer.json'), 'utf8')),
      tokenizerConfig: JSON.parse(readFileSync(resolve(dir, 'tokenizer_config.json'), 'utf8')),
    });
    let tails = 0;
    let cuts = 0;
    let dropped = 0;
    for (const c of fx.cases) {
      const what = `max_length ${c.max_length}, ${JSON.stringify(c.chosen)} / ${JSON.stringify(c.rejected)}`;
      const res = tokenizePairs([row(c.prompt, c.chosen, c.rejected)], tok, { maxLength: c.max_length });
      const scored = (labels: number[]) => labels.filter((l) => l !== -100).length;
      if (scored(c.chosen_labels) === 0 || scored(c.rejected_labels) === 0) {
        // TRL keeps a pair whose answer was cut to nothing (it scores no token); it is dropped here, saying why.
        expect(res.pairs, what).toHaveLength(0);
        expect(res.issues[0].message).toMatch(/cut to nothing/);
        dropped++;
        continue;
      }
      const p = res.pairs[0];
      for (const [side, tail, ids, wantIds, wantLabels] of [
        ['chosen', p.chosenPromptTail ?? [], p.chosenIds, c.chosen_input_ids, c.chosen_labels],
        ['rejected', p.rejectedPromptTail ?? [], p.rejectedIds, c.rejected_input_ids, c.rejected_labels],
      ] as const) {
        expect([...p.promptIds, ...tail, ...ids], `${side} ids, ${what}`).toEqual(wantIds);
        expect([...Array(p.promptIds.length + tail.length).fill(-100), ...ids], `${side} labels, ${what}`).toEqual(wantLabels);
        tails += tail.length;
      }
      cuts += res.summary.truncatedCompletions;
    }
    // The fixture holds one-sided merges, cuts and an answer cut to nothing.
    expect(tails).toBeGreaterThan(0);
    expect(cuts).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
  });

  it("truncates with TRL 1.13's rule: prompts kept, answers cut to max_length - longer answer when too long", () => {
    const tok = new GreedyTokenizer();
    const prompt = 'abcdefghijklmnopqrstuvwxyz'; // 26 tokens + BOS
    const chosen = tok.encode(' 1234567890'); // 11 tokens, 12 with EOS: the longer answer
    expect(tokenizePairs([row(prompt, ' 1234567890', ' 678')], tok, { maxLength: 24 }).pairs[0].chosenIds).toEqual([...chosen, 2]); // 24 − 12 > 12: no cut
    const r = tokenizePairs([row(prompt, ' 1234567890', ' 678')], tok, { maxLength: 20 });
    expect(r.pairs[0].promptIds).toHaveLength(27);
    expect(r.pairs[0].chosenIds).toEqual(chosen.slice(0, 20 - 12));
    expect(r.pairs[0].rejectedIds).toEqual([...tok.encode(' 678'), 2]);
    expect(r.summary).toMatchObject({ truncatedPrompts: 0, truncatedCompletions: 1 });
  });

  it("truncates like CPOTrainer before TRL 1.13 (truncation 'trl-legacy'): prompt to max_prompt_length, then completions", () => {
    const tok = new GreedyTokenizer();
    const prompt = 'abcdefghijklmnopqrstuvwxyz'; // 26 tokens + BOS
    const r = [row(prompt, ' 12345', ' 678')];
    const end = tokenizePairs(r, tok, { maxLength: 20, maxPromptLength: 10, truncation: 'trl-legacy', truncationMode: 'keep_end' });
    expect(tok.decode(end.pairs[0].promptIds)).toBe('qrstuvwxyz');
    expect(end.pairs[0].chosenIds).toEqual([...tok.encode(' 12345'), 2]);
    expect(end.summary.truncatedPrompts).toBe(1);
    const start = tokenizePairs(r, tok, { maxLength: 20, maxPromptLength: 10, truncation: 'trl-legacy', truncationMode: 'keep_start' });
    expect(tok.decode(start.pairs[0].promptIds)).toBe('<s>abcdefghi');
    // Still too long: completions cut to max_length - max_prompt_length.
    const tight = tokenizePairs([row(prompt, ' 1234567890123', ' 6')], tok, { maxLength: 16, maxPromptLength: 10, truncation: 'trl-legacy' });
    expect(tight.pairs[0].promptIds).toHaveLength(10);
    expect(tight.pairs[0].chosenIds).toEqual(tok.encode(' 12345'));
    expect(tight.pairs[0].rejectedIds).toEqual([...tok.encode(' 6'), 2]);
    expect(tight.summary.truncatedCompletions).toBe(1);
    // The histogram counts the pair at its length before the cut, so it shows what max_length cut off.
    const full = tight.pairs[0].promptIds.length + tok.encode(' 1234567890123').length + 1;
    const { edges, counts } = tokenizePairs([row(prompt, ' 1234567890123', ' 6')], tok, { maxLength: 16, maxPromptLength: 10, histogramEdges: [16, 1024] }).summary.histogram;
    expect(full).toBeGreaterThan(16);
    expect([edges, counts]).toEqual([[16, 1024], [0, 1, 0]]);
    // Short rows are left alone.
    const short = tokenizePairs([row('ab', ' c', ' d')], tok, { maxLength: 16, maxPromptLength: 10, truncation: 'trl-legacy' });
    expect(short.summary.truncatedPrompts + short.summary.truncatedCompletions).toBe(0);
  });

  it("sets aside rows longer than the model's max_position_embeddings after TRL's cut, and counts rows kept past max_length", () => {
    const tok = new GreedyTokenizer();
    const prompt = 'abcdefghijklmnopqrstuvwxyz'; // 26 tokens + BOS
    const rows = [row('ab', ' c', ' d', 1), row(prompt, ' 12', ' 3', 2), row(prompt + prompt, ' 1', ' 2', 3)];
    // max_length 24: TRL 1.13 keeps the 27- and 53-token prompts whole; 40 positions fit the first, not the second.
    const t = tokenizePairs(rows, tok, { maxLength: 24, maxPositions: 40 });
    expect(t.pairs.map((p) => p.index)).toEqual([0, 1]);
    expect(t.issues).toEqual([{ row: 3, line: 3, reason: 'too-long', message: `${53 + tok.encode(' 1').length + 1} tokens after truncation (prompt 53), over the model's 40 positions (max_position_embeddings): set aside (TRL 1.13 never cuts a prompt)` }]);
    expect(t.summary).toMatchObject({ droppedTooLong: 1, overMaxLength: 1 });
    const text = formatReport(withTokenization({ ...emptyReport(), rowsRead: 3 }, t));
    expect(text).toMatch(/set aside \(longer than the model's positions, or too long to tokenize\): 1/);
    expect(text).toMatch(/kept longer than max_length \(TRL 1\.13 never cuts prompts\): 1/);
    expect(text).toMatch(/too long for the model or to tokenize: 1/);
    // Without the model's limit nothing is set aside (the data layer alone cannot know it).
    expect(tokenizePairs(rows, tok, { maxLength: 24 }).pairs).toHaveLength(3);
    // The legacy rule cuts the prompt, so the same row fits.
    expect(tokenizePairs(rows, tok, { maxLength: 24, maxPromptLength: 12, maxPositions: 40, truncation: 'trl-legacy' }).pairs).toHaveLength(3);
  });

  it('sets aside a 50 MB field without tokenizing it (it took minutes: a hang), naming the field and its size', () => {
    const tok = new GreedyTokenizer();
    const seen: number[] = [];
    const encode = tok.encode.bind(tok);
    tok.encode = (text: string) => (seen.push(text.length), encode(text));
    const huge = 'x'.repeat(50 << 20);
    const t = tokenizePairs([row('ab', ' c', ' d', 1), row('Translate:', huge, ' d', 2)], tok, { maxLength: 1024, maxPositions: 2048 });
    expect(t.pairs.map((p) => p.index)).toEqual([0]);
    expect(t.issues).toEqual([{ row: 2, line: 2, field: 'chosen', reason: 'too-long', message: `chosen is 52,428,800 characters, over ${MAX_CHARS_PER_TOKEN} per token of max_length 1024: set aside without tokenizing` }]);
    expect(Math.max(...seen)).toBeLessThan(100);
    // Just under the cap, a field is tokenized and cut as TRL cuts it.
    const under = 'y'.repeat(64 * MAX_CHARS_PER_TOKEN);
    const kept = tokenizePairs([row('ab', under, ' d', 1)], tok, { maxLength: 64, maxPositions: 2048 });
    expect(kept.issues.map((i) => i.reason)).toEqual(['tokenization']); // TRL 1.13's cut leaves ' d' empty
    expect(Math.max(...seen)).toBe(2 + under.length);
  });

  it("drops and counts rows whose prompt exceeds max_prompt_length (ALMA's filter)", async () => {
    const tok = new GreedyTokenizer();
    const src = jsonl([
      { prompt: 'short', chosen: ' a', rejected: ' b' },
      { prompt: 'a much longer prompt here', chosen: ' a', rejected: ' b' },
    ]);
    const read = await readPreferenceFile(memFile('d.jsonl', src));
    const t = tokenizePairs(read.rows, tok, { maxLength: 64, maxPromptLength: 10, dropLongPrompts: true });
    expect(t.pairs.map((p) => p.index)).toEqual([0]);
    expect(t.issues).toEqual([{ row: 2, line: 2, field: 'prompt', reason: 'prompt-too-long', message: 'prompt is 26 tokens, over max_prompt_length 10' }]);
    const report = withTokenization(read.report, t);
    expect(report.rowsUsable).toBe(1);
    expect(report.counts['prompt-too-long']).toBe(1);
    expect(report.tokenization!.droppedLongPrompts).toBe(1);
    expect(report.tokenization!.histogram.counts.reduce((s, n) => s + n, 0)).toBe(1);
    expect(report.tokenization!.prompt).toEqual({ total: 6, min: 6, max: 6, mean: 6 });
    const text = formatReport(report);
    expect(text).toMatch(/length histogram/);
    expect(text).toMatch(/prompt too long after tokenization: 1/);
  });

  it('renders conversational rows with the chat template, and refuses without one', () => {
    const template = (ms: ChatMessage[], gen: boolean) => ms.map((m) => `<${m.role}>${m.content}</>`).join('') + (gen ? '<assistant>' : '');
    const tok = new GreedyTokenizer([], template);
    const chat: PreferenceRow = {
      kind: 'chat',
      line: 1,
      row: 1,
      prompt: [{ role: 'user', content: 'hi' }],
      chosen: [{ role: 'assistant', content: 'hello' }],
      rejected: [{ role: 'assistant', content: 'bye' }],
    };
    const p = tokenizePairs([chat], tok).pairs[0];
    expect(tok.decode(p.promptIds)).toBe('<s><user>hi</><assistant>');
    expect(tok.decode([...p.promptIds, ...p.chosenIds])).toBe('<s><user>hi</><assistant>hello</></s>');
    expect(() => tokenizePairs([chat], new GreedyTokenizer())).toThrow(/chat template/);
  });
});
