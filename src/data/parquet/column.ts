// Decodes one column chunk: its pages (dictionary, data v1, data v2), their compression and encodings,
// into repetition levels, definition levels and the non-null values.
import { CODEC_NAMES, ENCODING_NAMES, PageType, PhysicalType, decodePageHeader, type ColumnMeta } from './metadata.ts';
import { snappyUncompress } from './snappy.ts';

/** A string column value whose bytes are not valid UTF-8; the row converter reports it. */
export class InvalidUtf8 {
  constructor(readonly text: string) {}
}

export interface ColumnData {
  rep: Uint8Array | null; // (numValues) levels, null when the column is never repeated
  def: Uint8Array | null; // (numValues) levels, null when the column is required all the way down
  values: unknown[]; // only the non-null values
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

function decodeString(b: Uint8Array): string | InvalidUtf8 {
  try {
    return strict.decode(b);
  } catch {
    return new InvalidUtf8(lenient.decode(b));
  }
}

export function bitWidth(max: number): number {
  return max === 0 ? 0 : 32 - Math.clz32(max);
}

/** RLE / bit-packed hybrid, as used for levels and dictionary indices. Returns the position after the runs read. */
export function readHybrid(buf: Uint8Array, pos: number, end: number, width: number, count: number, out: Uint8Array | Uint32Array): number {
  let n = 0;
  const bytesPerRun = (width + 7) >> 3;
  while (n < count) {
    if (pos >= end) throw new Error('RLE data ends early');
    let header = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++];
      header += (b & 0x7f) * mul;
      if (!(b & 0x80)) break;
      mul *= 128;
    }
    if (header & 1) {
      const groups = Math.floor(header / 2);
      const total = groups * 8;
      let bitPos = 0;
      const base = pos;
      for (let i = 0; i < total; i++) {
        let v = 0;
        for (let b = 0; b < width; b++, bitPos++) {
          const byte = buf[base + (bitPos >> 3)];
          v |= ((byte >> (bitPos & 7)) & 1) << b;
        }
        if (n < count) out[n++] = v >>> 0;
      }
      pos = base + groups * width;
    } else {
      const run = Math.floor(header / 2);
      let v = 0;
      for (let i = 0; i < bytesPerRun; i++) v |= buf[pos + i] << (8 * i);
      pos += bytesPerRun;
      const stop = Math.min(count, n + run);
      out.fill(v >>> 0, n, stop);
      n = stop;
    }
  }
  return pos;
}

function readPlain(buf: Uint8Array, pos: number, type: PhysicalType, count: number, typeLength: number, out: unknown[]): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (n: number) => {
    if (pos + n > buf.length) throw new Error('PLAIN values run past the page end');
  };
  switch (type) {
    case PhysicalType.BOOLEAN:
      need(Math.ceil(count / 8));
      for (let i = 0; i < count; i++) out.push(((buf[pos + (i >> 3)] >> (i & 7)) & 1) === 1);
      return pos + Math.ceil(count / 8);
    case PhysicalType.INT32:
      need(4 * count);
      for (let i = 0; i < count; i++, pos += 4) out.push(view.getInt32(pos, true));
      return pos;
    case PhysicalType.INT64:
      need(8 * count);
      for (let i = 0; i < count; i++, pos += 8) out.push(Number(view.getBigInt64(pos, true)));
      return pos;
    case PhysicalType.INT96:
      need(12 * count);
      for (let i = 0; i < count; i++) out.push(null);
      return pos + 12 * count;
    case PhysicalType.FLOAT:
      need(4 * count);
      for (let i = 0; i < count; i++, pos += 4) out.push(view.getFloat32(pos, true));
      return pos;
    case PhysicalType.DOUBLE:
      need(8 * count);
      for (let i = 0; i < count; i++, pos += 8) out.push(view.getFloat64(pos, true));
      return pos;
    case PhysicalType.BYTE_ARRAY:
      for (let i = 0; i < count; i++) {
        need(4);
        const len = view.getUint32(pos, true);
        pos += 4;
        need(len);
        out.push(decodeString(buf.subarray(pos, pos + len)));
        pos += len;
      }
      return pos;
    case PhysicalType.FIXED_LEN_BYTE_ARRAY:
      need(typeLength * count);
      for (let i = 0; i < count; i++, pos += typeLength) out.push(buf.slice(pos, pos + typeLength));
      return pos;
    default:
      throw new Error(`unknown physical type ${type}`);
  }
}

async function gunzipBytes(b: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([b as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function decompress(codec: number, data: Uint8Array, size: number): Promise<Uint8Array> {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return snappyUncompress(data, size);
    case 2:
      return gunzipBytes(data);
    default:
      throw new Error(`compression ${CODEC_NAMES[codec] ?? codec} is not supported (UNCOMPRESSED, SNAPPY and GZIP are)`);
  }
}

export interface LeafInfo {
  type: PhysicalType;
  typeLength: number;
  maxDef: number;
  maxRep: number;
}

export async function decodeColumnChunk(chunk: Uint8Array, meta: ColumnMeta, leaf: LeafInfo): Promise<ColumnData> {
  const total = meta.numValues;
  const rep = leaf.maxRep > 0 ? new Uint8Array(total) : null;
  const def = leaf.maxDef > 0 ? new Uint8Array(total) : null;
  const values: unknown[] = [];
  let dictionary: unknown[] | null = null;
  let done = 0;
  let pos = 0;
  const repWidth = bitWidth(leaf.maxRep);
  const defWidth = bitWidth(leaf.maxDef);

  while (done < total) {
    if (pos >= chunk.length) throw new Error(`column ${meta.path.join('.')} ends after ${done} of ${total} values`);
    const { header, end } = decodePageHeader(chunk, pos);
    const bodyEnd = end + header.compressedSize;
    if (bodyEnd > chunk.length) throw new Error(`page of column ${meta.path.join('.')} runs past the column chunk (truncated file?)`);
    const body = chunk.subarray(end, bodyEnd);
    pos = bodyEnd;

    if (header.type === PageType.DICTIONARY_PAGE) {
      const d = header.dictionaryPage!;
      const raw = await decompress(meta.codec, body, header.uncompressedSize);
      dictionary = [];
      readPlain(raw, 0, leaf.type, d.numValues, leaf.typeLength, dictionary);
      continue;
    }
    if (header.type === PageType.INDEX_PAGE) continue;

    let page: Uint8Array;
    let p = 0;
    let n: number;
    let encoding: number;
    const levelsStart = done;
    if (header.type === PageType.DATA_PAGE) {
      const h = header.dataPage!;
      n = h.numValues;
      encoding = h.encoding;
      page = await decompress(meta.codec, body, header.uncompressedSize);
      const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
      if (rep) {
        const len = view.getUint32(p, true);
        readHybrid(page, p + 4, p + 4 + len, repWidth, n, rep.subarray(levelsStart, levelsStart + n));
        p += 4 + len;
      }
      if (def) {
        if (h.defEncoding !== 3) throw new Error(`definition level encoding ${ENCODING_NAMES[h.defEncoding] ?? h.defEncoding} is not supported`);
        const len = view.getUint32(p, true);
        readHybrid(page, p + 4, p + 4 + len, defWidth, n, def.subarray(levelsStart, levelsStart + n));
        p += 4 + len;
      }
    } else if (header.type === PageType.DATA_PAGE_V2) {
      const h = header.dataPageV2!;
      n = h.numValues;
      encoding = h.encoding;
      if (rep) readHybrid(body, 0, h.repLength, repWidth, n, rep.subarray(levelsStart, levelsStart + n));
      if (def) readHybrid(body, h.repLength, h.repLength + h.defLength, defWidth, n, def.subarray(levelsStart, levelsStart + n));
      const valuesPart = body.subarray(h.repLength + h.defLength);
      page =
        h.isCompressed && meta.codec !== 0
          ? await decompress(meta.codec, valuesPart, header.uncompressedSize - h.repLength - h.defLength)
          : valuesPart;
    } else {
      throw new Error(`unknown page type ${header.type}`);
    }

    let nonNull = n;
    if (def) {
      nonNull = 0;
      for (let i = levelsStart; i < levelsStart + n; i++) if (def[i] === leaf.maxDef) nonNull++;
    }
    if (encoding === 0) {
      readPlain(page, p, leaf.type, nonNull, leaf.typeLength, values);
    } else if (encoding === 2 || encoding === 8) {
      if (!dictionary) throw new Error(`column ${meta.path.join('.')} uses a dictionary but has no dictionary page`);
      const width = page[p];
      const idx = new Uint32Array(nonNull);
      if (nonNull) readHybrid(page, p + 1, page.length, width, nonNull, idx);
      for (let i = 0; i < nonNull; i++) {
        if (idx[i] >= dictionary.length) throw new Error('dictionary index out of range');
        values.push(dictionary[idx[i]]);
      }
    } else if (encoding === 3 && leaf.type === PhysicalType.BOOLEAN) {
      const len = new DataView(page.buffer, page.byteOffset).getUint32(p, true);
      const bits = new Uint8Array(nonNull);
      readHybrid(page, p + 4, p + 4 + len, 1, nonNull, bits);
      for (let i = 0; i < nonNull; i++) values.push(bits[i] === 1);
    } else {
      throw new Error(`encoding ${ENCODING_NAMES[encoding] ?? encoding} is not supported (PLAIN and dictionary encodings are)`);
    }
    done += n;
  }
  return { rep, def, values };
}
