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
  /**
   * Ids of the tokenizer's own vocabulary (added tokens left out): every one must have an embedding row. Added
   * tokens may lie past the embedding (Gemma 3's image token), since text rarely holds them.
   */
  modelVocabSize?: number;
  /** Renders messages with the tokenizer's chat template; absent when the tokenizer has none. */
  applyChatTemplate?(messages: ChatMessage[], addGenerationPrompt: boolean): string;
}
