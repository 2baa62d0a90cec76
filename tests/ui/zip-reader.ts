// Reads a STORE zip (what src/io/zip.ts writes) by walking its local headers: name → bytes. Enough for tests
// to open what the studio saves; a compressed entry is an error.
export function readZip(zip: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out = new Map<string, Uint8Array>();
  let o = 0;
  while (o + 30 <= zip.length && v.getUint32(o, true) === 0x04034b50) {
    if (v.getUint16(o + 8, true) !== 0) throw new Error(`zip entry at ${o} is compressed`);
    const size = v.getUint32(o + 18, true);
    const nameLen = v.getUint16(o + 26, true);
    const extra = v.getUint16(o + 28, true);
    const name = new TextDecoder().decode(zip.subarray(o + 30, o + 30 + nameLen));
    const start = o + 30 + nameLen + extra;
    out.set(name, zip.subarray(start, start + size));
    o = start + size;
  }
  return out;
}
