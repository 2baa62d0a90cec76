// The tokenizer.json / tokenizer_config.json a GGUF file's tokenizer.ggml.* metadata stands for, so GGUF
// models tokenize through the same library as Hugging Face folders. Covered: "gpt2" (byte-level BPE:
// GPT-2, Llama 3, Qwen2 by tokenizer.ggml.pre) and "llama" (SentencePiece BPE with byte fallback:
// Llama 1/2, Mistral; merges rebuilt from piece scores as transformers' SentencePiece converter does).
// Not covered: "bert" (WordPiece), "t5" (Unigram), "rwkv".
import type { GgufValue } from './gguf.ts';
import type { TokenizerFiles } from './tokenizer.ts';

// llama.cpp's token types
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, BYTE = 6;

const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export function ggufTokenizerFiles(metadata: Map<string, GgufValue>, file = 'model.gguf'): TokenizerFiles {
  const get = (k: string) => metadata.get(`tokenizer.ggml.${k}`);
  const fail = (k: string, msg: string): never => {
    throw new Error(`${file}: metadata "tokenizer.ggml.${k}": ${msg}`);
  };
  const model = get('model');
  const tokens = get('tokens');
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) return fail('tokens', 'missing or not a list of strings');
  const toks = tokens as string[];
  const types = (get('token_type') as number[] | undefined) ?? toks.map(() => NORMAL);
  if (!Array.isArray(types) || types.length !== toks.length) fail('token_type', `has ${Array.isArray(types) ? types.length : 0} entries for ${toks.length} tokens`);
  const id = (k: string) => {
    const v = get(k);
    return typeof v === 'number' && v >= 0 && v < toks.length ? v : null;
  };
  const bos = id('bos_token_id');
  const eos = id('eos_token_id');
  const pad = id('padding_token_id');
  const unk = id('unknown_token_id');
  const addBos = get('add_bos_token') ?? model === 'llama';
  const vocab: Record<string, number> = {};
  toks.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = i;
  });
  const added = toks
    .map((t, i) => ({ t, i, type: types[i] }))
    .filter((x) => x.type === CONTROL || x.type === USER_DEFINED || x.type === UNKNOWN)
    .map(({ t, i, type }) => ({ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: type === USER_DEFINED, special: type !== USER_DEFINED }));
  const post = addBos && bos !== null
    ? { type: 'TemplateProcessing', single: [{ SpecialToken: { id: toks[bos], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ SpecialToken: { id: toks[bos], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: toks[bos], type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { [toks[bos]]: { id: toks[bos], ids: [bos], tokens: [toks[bos]] } } }
    : null;
  let tokenizerJson: object;
  if (model === 'gpt2') {
    const merges = get('merges');
    if (!Array.isArray(merges) || !merges.every((m) => typeof m === 'string')) return fail('merges', 'missing or not a list of strings');
    const pre = get('pre');
    const split = pre === 'llama-bpe' || pre === 'llama3' ? LLAMA3_SPLIT : pre === 'qwen2' ? QWEN2_SPLIT : null;
    tokenizerJson = {
      version: '1.0',
      added_tokens: added,
      normalizer: pre === 'qwen2' ? { type: 'NFC' } : null,
      pre_tokenizer: split
        ? { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: split }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] }
        : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: post ?? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: split === LLAMA3_SPLIT, vocab, merges },
    };
  } else if (model === 'llama') {
    const scores = get('scores');
    if (!Array.isArray(scores) || scores.length !== toks.length) return fail('scores', `needs one score per token (${toks.length})`);
    tokenizerJson = {
      version: '1.0',
      added_tokens: added,
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: post,
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
      model: { type: 'BPE', dropout: null, unk_token: unk !== null ? toks[unk] : null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: spmMerges(toks, types, scores as number[]) },
    };
  } else {
    return fail('model', `${JSON.stringify(model)} is not supported (gpt2, llama)`);
  }
  const tokenizerConfig: Record<string, unknown> = {
    bos_token: bos !== null ? toks[bos] : null,
    eos_token: eos !== null ? toks[eos] : null,
    pad_token: pad !== null ? toks[pad] : null,
    unk_token: unk !== null ? toks[unk] : null,
    add_bos_token: addBos,
    add_eos_token: get('add_eos_token') === true,
    clean_up_tokenization_spaces: false,
    tokenizer_class: model === 'llama' ? 'LlamaTokenizer' : 'PreTrainedTokenizer',
  };
  const template = metadata.get('tokenizer.chat_template');
  if (typeof template === 'string') tokenizerConfig.chat_template = template;
  return { tokenizerJson, tokenizerConfig };
}

/**
 * BPE merges implied by a SentencePiece BPE vocabulary: every split of a piece into two pieces of the vocab,
 * ranked by the merged piece's score (higher first), ties kept in vocab order and then by the halves' ids,
 * as transformers' SentencePieceExtractor orders them.
 */
export function spmMerges(tokens: string[], types: number[], scores: number[]): string[] {
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if ((types[i] === NORMAL || types[i] === USER_DEFINED) && !ids.has(t)) ids.set(t, i);
  });
  const merges: { l: string; r: string; score: number }[] = [];
  for (const [piece, pid] of ids) {
    if (types[pid] !== NORMAL) continue;
    const cps = Array.from(piece);
    const local: { l: string; r: string; score: number; li: number; ri: number }[] = [];
    for (let k = 1; k < cps.length; k++) {
      const l = cps.slice(0, k).join('');
      const r = cps.slice(k).join('');
      const li = ids.get(l);
      const ri = ids.get(r);
      if (li !== undefined && ri !== undefined) local.push({ l, r, score: scores[pid], li, ri });
    }
    local.sort((a, b) => a.li - b.li || a.ri - b.ri);
    merges.push(...local);
  }
  merges.sort((a, b) => b.score - a.score);
  return merges.map((m) => `${m.l} ${m.r}`);
}

export { BYTE as TOKEN_TYPE_BYTE, CONTROL as TOKEN_TYPE_CONTROL, NORMAL as TOKEN_TYPE_NORMAL };
