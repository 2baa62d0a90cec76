// Python `str` semantics that sacreBLEU's numbers depend on. JS differs in three places that
// change scores: `\s` is not Python's whitespace set, string indexing is by UTF-16 unit rather
// than code point, and toFixed rounds exact ties away from zero where Python rounds half-even.

// Python's str.isspace() set (CPython _PyUnicode_IsWhitespace). Unlike JS `\s` it includes
// U+001C..U+001F and U+0085, and excludes U+FEFF.
const PY_WS_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WS_CLASS}]+`, 'u');
const PY_WS_TRAILING = new RegExp(`[${PY_WS_CLASS}]+$`, 'u');
const PY_WS_ALL = new RegExp(`[${PY_WS_CLASS}]+`, 'gu');

/** `s.split()` with no separator: split on whitespace runs, dropping empty pieces. */
export function pySplit(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t.length > 0);
}

/** `s.rstrip()` */
export function pyRstrip(s: string): string {
  return s.replace(PY_WS_TRAILING, '');
}

/** `''.join(s.split())` */
export function pyRemoveWhitespace(s: string): string {
  return s.replace(PY_WS_ALL, '');
}

/** A string as Python sees it: a sequence of code points. */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/**
 * Python's `f'{x:.{digits}f}'`. toFixed already rounds the exact binary value correctly, so
 * only exact decimal ties (e.g. 0.125) need fixing up to round-half-even.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x !== x ? 'nan' : x > 0 ? 'inf' : '-inf';
  const out = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return out;
  const exact = Math.abs(x).toFixed(100);
  const point = exact.indexOf('.');
  const tail = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(tail)) return out;
  // Tie: toFixed went away from zero; step back if that made the last kept digit odd.
  const kept = exact.slice(0, point + 1 + digits).replace('.', '');
  const lastKept = Number(kept[kept.length - 1]);
  if (lastKept % 2 === 0) {
    const truncated = exact.slice(0, digits > 0 ? point + 1 + digits : point);
    return (x < 0 ? '-' : '') + truncated;
  }
  return out;
}
