// Plain-text inputs (translate --input, score --hyp/--ref): UTF-8 only, checked before use. A UTF-16 file
// read as UTF-8 becomes one "line" of NUL-interleaved text (reported downstream as "line counts differ"),
// and a Latin-1 file silently gets U+FFFD in place of its accents; both are refused naming the encoding.
import { DataFileError } from './types.ts';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The encoding `bytes` are in when it is not UTF-8 text, or null. */
function foreignEncoding(b: Uint8Array): string | null {
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'UTF-32 (little-endian) text';
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'UTF-32 (big-endian) text';
  if (b[0] === 0xff && b[1] === 0xfe) return 'UTF-16 (little-endian) text';
  if (b[0] === 0xfe && b[1] === 0xff) return 'UTF-16 (big-endian) text';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip-compressed binary data';
  const n = Math.min(b.length, 4096);
  const nul = [0, 0];
  let control = 0;
  for (let i = 0; i < n; i++) {
    if (b[i] === 0) nul[i & 1]++;
    else if (b[i] < 0x20 && b[i] !== 0x09 && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0x0c) control++;
  }
  // ASCII-range text in UTF-16 has a zero in every other byte: the high (odd, LE) or low (even, BE) half.
  if (nul[1] > n / 4 && nul[0] < n / 50) return 'UTF-16 (little-endian) text without a byte-order mark';
  if (nul[0] > n / 4 && nul[1] < n / 50) return 'UTF-16 (big-endian) text without a byte-order mark';
  if (nul[0] + nul[1] > 0 || control > n / 20) return 'binary data (NUL or control bytes)';
  return null;
}

/** Lines as sacreBLEU reads them (split on '\n', a final newline starts no line, CR of CRLF dropped), from UTF-8 only. */
export function textLines(bytes: Uint8Array, file: string): string[] {
  const foreign = foreignEncoding(bytes);
  if (foreign) throw new DataFileError(file, `is ${foreign}, not UTF-8 text; convert it to UTF-8 (e.g. iconv -t UTF-8)`);
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    throw new DataFileError(file, `${firstBadLine(bytes)} is not valid UTF-8 (Latin-1 or Windows-1252?); convert the file to UTF-8 (e.g. iconv -f WINDOWS-1252 -t UTF-8)`);
  }
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function firstBadLine(bytes: Uint8Array): string {
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    try {
      strict.decode(bytes.subarray(start, end));
    } catch {
      return `line ${line}`;
    }
    start = end + 1;
  }
  return 'a line';
}
