// The tokenizer as the engine sees it. Implemented over @huggingface/transformers (src/io/tokenizer.ts) for
// tokenizer.json folders and GGUF-embedded vocabularies; tests may use small fakes.

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TextTokenizer {
  /** Token ids of `text` without any special tokens added (no BOS/EOS). */
  encode(text: string): number[];
  decode(ids: number[], skipSpecialTokens?: boolean): string;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  vocabSize: number;
  /** Renders messages with the tokenizer's chat template; absent when the tokenizer has none. */
  applyChatTemplate?(messages: ChatMessage[], addGenerationPrompt: boolean): string;
}
