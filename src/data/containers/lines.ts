// Splits a byte stream into lines without ever holding more than one line plus one chunk, decoding each
// line as strict UTF-8 so a bad byte sequence is pinned to its line instead of silently becoming U+FFFD.
import { concat, type ChunkReader } from '../source.ts';

export interface TextLine {
  text: string;
  /** 1-based. */
  line: number;
  badUtf8: boolean;
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): { text: string; bad: boolean } {
  try {
    return { text: strict.decode(bytes), bad: false };
  } catch {
    return { text: lenient.decode(bytes), bad: true };
  }
}

export async function* readLines(reader: ChunkReader): AsyncGenerator<TextLine> {
  let carry: Uint8Array[] = [];
  let carryLen = 0;
  let line = 0;
  let first = true;
  const emit = (bytes: Uint8Array): TextLine => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    let start = 0;
    if (first && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
    first = false;
    const { text, bad } = decodeUtf8(bytes.subarray(start, end));
    return { text, line: ++line, badUtf8: bad };
  };
  for (let chunk = await reader.next(); chunk; chunk = await reader.next()) {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) break;
      if (carryLen) {
        carry.push(chunk.subarray(pos, nl));
        const joined = concat(carry, carryLen + nl - pos);
        carry = [];
        carryLen = 0;
        yield emit(joined);
      } else {
        yield emit(chunk.subarray(pos, nl));
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      // Copy: the chunk's buffer may be reused by the stream once we hand it back.
      carry.push(chunk.slice(pos));
      carryLen += chunk.length - pos;
    }
  }
  if (carryLen) yield emit(concat(carry, carryLen));
}
