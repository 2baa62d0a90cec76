// A minimal zip writer (STORE method, no compression): safetensors data barely compresses, and storing keeps
// the writer small and the output byte-for-byte deterministic (fixed 1980-01-01 timestamps).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ZipEntry {
  name: string;
  data: Uint8Array | string;
}

export function zipStore(entries: ZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const files = entries.map((e) => {
    const data = typeof e.data === 'string' ? enc.encode(e.data) : e.data;
    return { name: enc.encode(e.name), data, crc: crc32(data) };
  });
  const total = files.reduce((s, f) => s + 30 + f.name.length + f.data.length + 46 + f.name.length, 22);
  if (total > 0xffffffff || files.length > 0xffff) throw new Error('zipStore: archive too large for zip32');
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  const locals: number[] = [];
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  const header = (sig: number, f: (typeof files)[number], central: boolean, localOffset = 0) => {
    dv.setUint32(at, sig, true);
    at += 4;
    if (central) {
      dv.setUint16(at, 20, true); // version made by
      at += 2;
    }
    dv.setUint16(at, 20, true); // version needed
    dv.setUint16(at + 2, 0x0800, true); // UTF-8 names
    dv.setUint16(at + 4, 0, true); // STORE
    dv.setUint16(at + 6, 0, true); // time
    dv.setUint16(at + 8, DOS_DATE, true);
    dv.setUint32(at + 10, f.crc, true);
    dv.setUint32(at + 14, f.data.length, true);
    dv.setUint32(at + 18, f.data.length, true);
    dv.setUint16(at + 22, f.name.length, true);
    dv.setUint16(at + 24, 0, true); // extra
    at += 26;
    if (central) {
      dv.setUint16(at, 0, true); // comment
      dv.setUint16(at + 2, 0, true); // disk
      dv.setUint16(at + 4, 0, true); // internal attrs
      dv.setUint32(at + 6, 0, true); // external attrs
      dv.setUint32(at + 10, localOffset, true);
      at += 14;
    }
    out.set(f.name, at);
    at += f.name.length;
  };
  for (const f of files) {
    locals.push(at);
    header(0x04034b50, f, false);
    out.set(f.data, at);
    at += f.data.length;
  }
  const cdStart = at;
  files.forEach((f, i) => header(0x02014b50, f, true, locals[i]));
  const cdSize = at - cdStart;
  dv.setUint32(at, 0x06054b50, true);
  dv.setUint16(at + 4, 0, true);
  dv.setUint16(at + 6, 0, true);
  dv.setUint16(at + 8, files.length, true);
  dv.setUint16(at + 10, files.length, true);
  dv.setUint32(at + 12, cdSize, true);
  dv.setUint32(at + 16, cdStart, true);
  dv.setUint16(at + 20, 0, true);
  return out;
}
