// Text inputs read from disk in Node (translate --input, score --hyp/--ref): every failure names the path
// (Node's own EISDIR / ENOENT messages do not), and the encoding is checked by text.ts.
import { readFileSync, statSync } from 'node:fs';
import { textLines } from './text.ts';
import { DataFileError } from './types.ts';

export function readTextLines(path: string): string[] {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new DataFileError(path, 'is a folder; expected a text file');
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataFileError(path, code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as Error).message})`);
  }
  return textLines(bytes, path);
}
