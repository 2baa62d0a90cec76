// TextTokenizer over @huggingface/transformers' tokenizer classes, built straight from tokenizer.json /
// tokenizer_config.json objects: no Hub, no network, no files. The library is imported lazily so the
// app's first screen does not pay for it.
import type { ChatMessage, TextTokenizer } from '../model/tokenizer.ts';

export interface TokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig?: object;
}

type Json = Record<string, unknown>;

/** tokenizer.json model types the tokenizers library (and transformers.js) implements. */
const MODEL_TYPES = ['BPE', 'Unigram', 'WordPiece', 'WordLevel'];

export async function loadTokenizer(files: TokenizerFiles): Promise<TextTokenizer> {
  const tj = files.tokenizerJson as Json;
  if (typeof tj !== 'object' || tj === null || typeof tj.model !== 'object' || tj.model === null) {
    throw new Error('tokenizer.json: model: missing (not a tokenizers-library file)');
  }
  // The library builds an unknown model type into a tokenizer that encodes nothing useful: refuse it by name.
  const type = (tj.model as Json).type;
  if (type !== undefined && !MODEL_TYPES.includes(type as string)) {
    throw new Error(`tokenizer.json: model.type: ${JSON.stringify(type)} is not a tokenizer model this studio can run (${MODEL_TYPES.join(', ')})`);
  }
  const config = { ...((files.tokenizerConfig ?? {}) as Json) };
  const lib = (await import('@huggingface/transformers')) as unknown as Record<string, unknown>;
  const Base = lib.PreTrainedTokenizer as new (j: object, c: object) => HfTokenizer;
  // tokenizer_class picks subclass behaviour (e.g. LlamaTokenizer's padding side) as AutoTokenizer would.
  const className = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const Cls = (typeof lib[className] === 'function' && (lib[className] as { prototype: unknown }).prototype instanceof Base ? lib[className] : Base) as typeof Base;
  let tok: HfTokenizer;
  try {
    tok = new Cls(tj, config);
  } catch (e) {
    throw new Error(`tokenizer.json: cannot build the tokenizer (${(e as Error).message})`);
  }
  const vocab = tok.get_vocab();
  const added = new Set(((tj.added_tokens as { id: number }[] | undefined) ?? []).map((a) => a.id));
  let maxId = -1;
  let maxModelId = -1;
  for (const id of vocab.values()) {
    if (id > maxId) maxId = id;
    if (id > maxModelId && !added.has(id)) maxModelId = id;
  }
  for (const id of added) if (id > maxId) maxId = id;
  const idOf = (field: string): number | null => {
    const v = config[field];
    const content = typeof v === 'string' ? v : typeof v === 'object' && v !== null ? (v as Json).content : null;
    if (typeof content !== 'string') return null;
    const id = tok.convert_tokens_to_ids(content);
    return typeof id === 'number' && id >= 0 ? id : null;
  };
  const hasTemplate = tok.chat_template !== null && tok.chat_template !== undefined;
  const out: TextTokenizer = {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids, skipSpecialTokens = false) => (ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: skipSpecialTokens })),
    bosId: idOf('bos_token'),
    eosId: idOf('eos_token'),
    // Only an explicit pad token: the library falls back to EOS, which would mask real EOS labels.
    padId: idOf('pad_token'),
    vocabSize: maxId + 1,
    modelVocabSize: maxModelId + 1,
  };
  if (hasTemplate) {
    out.applyChatTemplate = (messages: ChatMessage[], addGenerationPrompt: boolean) =>
      tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: addGenerationPrompt }) as string;
  }
  return out;
}

interface HfTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(ids: number[], opts: { skip_special_tokens: boolean }): string;
  get_vocab(): Map<string, number>;
  convert_tokens_to_ids(token: string): number;
  chat_template: unknown;
  apply_chat_template(messages: ChatMessage[], opts: { tokenize: false; add_generation_prompt: boolean }): unknown;
}
