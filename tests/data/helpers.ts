// Fixture helpers: in-memory sources with small chunks (to cross every boundary), gzip, fake tokenizers.
import { gzipSync } from 'node:zlib';
import { bytesSource, type RandomAccessSource } from '../../src/data/index.ts';
import type { ChatMessage, TextTokenizer } from '../../src/model/tokenizer.ts';

export const enc = (s: string) => new TextEncoder().encode(s);

/** A file in memory whose stream() hands out `chunk`-byte pieces. */
export function memFile(name: string, content: string | Uint8Array, chunk = 7): RandomAccessSource {
  const bytes = typeof content === 'string' ? enc(content) : content;
  const base = bytesSource(bytes, name);
  return { ...base, stream: () => streamOf(bytes, chunk) };
}

export function streamOf(bytes: Uint8Array, chunk = 7): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i >= bytes.length) return c.close();
      c.enqueue(bytes.slice(i, i + chunk));
      i += chunk;
    },
  });
}

export const gzip = (b: string | Uint8Array) => new Uint8Array(gzipSync(typeof b === 'string' ? enc(b) : b));

export const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/**
 * Greedy longest-match tokenizer over a fixed vocabulary (single characters get ids on first sight).
 * Multi-character entries like "ab" make merges across the prompt/answer boundary happen on purpose.
 */
export class GreedyTokenizer implements TextTokenizer {
  bosId: number | null = 1;
  eosId: number | null = 2;
  padId: number | null = 0;
  private vocab = new Map<string, number>([['<s>', 1], ['</s>', 2]]);
  private maxLen = 4;
  constructor(
    multi: string[] = [],
    template?: (m: ChatMessage[], gen: boolean) => string,
  ) {
    for (const m of multi) this.id(m);
    this.maxLen = Math.max(4, ...multi.map((m) => m.length));
    if (template) this.applyChatTemplate = template;
  }
  applyChatTemplate?: (messages: ChatMessage[], addGenerationPrompt: boolean) => string;
  get vocabSize() {
    return this.vocab.size + 3;
  }
  private id(s: string): number {
    let v = this.vocab.get(s);
    if (v === undefined) this.vocab.set(s, (v = this.vocab.size + 3));
    return v;
  }
  encode(text: string): number[] {
    const out: number[] = [];
    let i = 0;
    while (i < text.length) {
      let len = Math.min(this.maxLen, text.length - i);
      while (len > 1 && !this.vocab.has(text.slice(i, i + len))) len--;
      out.push(this.id(text.slice(i, i + len)));
      i += len;
    }
    return out;
  }
  decode(ids: number[]): string {
    const inv = new Map([...this.vocab].map(([k, v]) => [v, k]));
    return ids.map((i) => inv.get(i) ?? '?').join('');
  }
}
