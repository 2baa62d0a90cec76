// A small greedy Snappy compressor for building test fixtures: literals plus 2-byte-offset copies.

export function snappyCompress(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  let n = input.length;
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  const table = new Map<number, number>();
  let lit = 0;
  let i = 0;
  const key = (p: number) => input[p] | (input[p + 1] << 8) | (input[p + 2] << 16) | (input[p + 3] << 24);
  const flushLiteral = (end: number) => {
    let start = lit;
    while (start < end) {
      const len = Math.min(end - start, 1 << 16);
      const l = len - 1;
      if (l < 60) out.push(l << 2);
      else if (l < 256) out.push(60 << 2, l);
      else out.push(61 << 2, l & 0xff, l >> 8);
      for (let k = start; k < start + len; k++) out.push(input[k]);
      start += len;
    }
  };
  while (i + 4 <= input.length) {
    const k = key(i);
    const cand = table.get(k);
    table.set(k, i);
    if (cand !== undefined && i - cand <= 0xffff && key(cand) === k) {
      let len = 4;
      while (i + len < input.length && input[cand + len] === input[i + len] && len < 64) len++;
      flushLiteral(i);
      const off = i - cand;
      out.push(((len - 1) << 2) | 2, off & 0xff, off >> 8);
      i += len;
      lit = i;
    } else i++;
  }
  flushLiteral(input.length);
  return Uint8Array.from(out);
}
