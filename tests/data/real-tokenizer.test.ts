// TRL's tokenization convention with the real tokenizer of the tiny demo model (Mistral's 32k SentencePiece
// BPE): the expected ids are built from the tokenizer's own encodings of the pieces, never typed in.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenizePairs } from '../../src/data/index.ts';
import type { PreferenceRow } from '../../src/data/types.ts';
import { loadTokenizer } from '../../src/io/tokenizer.ts';
import type { TextTokenizer } from '../../src/model/tokenizer.ts';

const dir = resolve(import.meta.dirname, '../../public/models/tiny');
let tok: TextTokenizer;
beforeAll(async () => {
  tok = await loadTokenizer({
    tokenizerJson: JSON.parse(readFileSync(resolve(dir, 'tokenizer.json'), 'utf8')),
    tokenizerConfig: JSON.parse(readFileSync(resolve(dir, 'tokenizer_config.json'), 'utf8')),
  });
});

const row = (prompt: string, chosen: string, rejected: string): PreferenceRow => ({ kind: 'text', prompt, chosen, rejected, line: 1, row: 1 });

describe('TRL tokenization with the real tokenizer', () => {
  it('prompt gets BOS, completions get EOS, and prompt + completion re-encode the joint text', () => {
    const r = row('Translate this from German to English:\nGerman: Guten Morgen.\nEnglish:', ' Good morning.', ' Good evening.');
    const { pairs } = tokenizePairs([r], tok, { maxLength: 512, maxPromptLength: 256 });
    const p = pairs[0];
    expect(tok.bosId).not.toBeNull();
    expect(p.promptIds[0]).toBe(tok.bosId);
    expect(p.chosenIds.at(-1)).toBe(tok.eosId);
    expect(p.rejectedIds.at(-1)).toBe(tok.eosId);
    // Masking boundary: the prompt ids are exactly the joint encoding's head, the completion its tail.
    expect([...p.promptIds.slice(1), ...p.chosenIds.slice(0, -1)]).toEqual(tok.encode(r.prompt + (r as { chosen: string }).chosen));
    expect([...p.promptIds.slice(1), ...p.rejectedIds.slice(0, -1)]).toEqual(tok.encode(r.prompt + (r as { rejected: string }).rejected));
    expect(tok.decode(p.chosenIds.slice(0, -1)).trim()).toBe('Good morning.');
  });

  it('when the last prompt token merges with the answer, the merged token is scored as answer (TRL build_tokenized_answer)', () => {
    // "Answer:" + "Yes" encodes "Answer:Yes" where ":Y" or similar may merge; find a pair that really merges.
    const prompt = 'The answer is';
    const answers = ['n', 'ly', 'sh'];
    const merged = answers.find((a) => {
      const pIds = tok.encode(prompt);
      const full = tok.encode(prompt + a);
      return pIds.some((id, i) => full[i] !== id);
    });
    expect(merged, 'one of the candidates merges with the prompt').toBeDefined();
    const { pairs } = tokenizePairs([row(prompt, merged!, ' no')], tok, { maxLength: 512, maxPromptLength: 256 });
    const full = tok.encode(prompt + merged!);
    const chosen = pairs[0].chosenIds.slice(0, -1);
    // The joint encoding is what the model sees; the prompt part is one token shorter than encode(prompt).
    expect([...pairs[0].promptIds.slice(1), ...chosen]).toEqual(full);
    expect(pairs[0].promptIds.length - 1).toBe(tok.encode(prompt).length - 1);
  });
});
