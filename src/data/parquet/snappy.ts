// Raw (unframed) Snappy decompression, the block format Parquet stores pages in.

export function snappyUncompress(input: Uint8Array, expectedLength?: number): Uint8Array {
  let pos = 0;
  let length = 0;
  let shift = 0;
  for (;;) {
    if (pos >= input.length) throw new Error('snappy: truncated length header');
    const b = input[pos++];
    length += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
    shift += 7;
    if (shift > 35) throw new Error('snappy: length header too long');
  }
  if (expectedLength !== undefined && length !== expectedLength) {
    throw new Error(`snappy: block says ${length} bytes, page header says ${expectedLength}`);
  }
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >> 2;
      if (len >= 60) {
        const bytes = len - 59;
        if (pos + bytes > input.length) throw new Error('snappy: truncated literal length');
        len = 0;
        for (let i = 0; i < bytes; i++) len += input[pos + i] * 2 ** (8 * i);
        pos += bytes;
      }
      len += 1;
      if (pos + len > input.length || o + len > length) throw new Error('snappy: literal runs past the end');
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= input.length) throw new Error('snappy: truncated copy');
      len = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | input[pos++];
    } else if (kind === 2) {
      if (pos + 2 > input.length) throw new Error('snappy: truncated copy');
      len = (tag >> 2) + 1;
      offset = input[pos] | (input[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > input.length) throw new Error('snappy: truncated copy');
      len = (tag >> 2) + 1;
      offset = (input[pos] | (input[pos + 1] << 8) | (input[pos + 2] << 16) | (input[pos + 3] << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + len > length) throw new Error('snappy: bad copy offset');
    // Copies may overlap their own output (offset < len), so byte by byte.
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset];
  }
  if (o !== length) throw new Error(`snappy: produced ${o} of ${length} bytes`);
  return out;
}
