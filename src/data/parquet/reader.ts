// Parquet through hyparquet (+ hyparquet-compressors, loaded on demand, for zstd, brotli, gzip, LZ4): every encoding and codec
// that pyarrow, polars, DuckDB and fastparquet write (see ../README.md for why this library). What stays ours:
// the file is read through a RandomAccessSource (a Blob, a Node file handle, a Hub file by range), one row
// group at a time, so memory holds one row group's columns, never the whole file; rows keep their 1-based
// number for the validation report; strings that are not valid UTF-8 are flagged, not silently replaced.
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type Compressors, type FileMetaData } from 'hyparquet';
import type { RawItem } from '../containers/record.ts';
import type { RandomAccessSource } from '../source.ts';
import { DataFileError } from '../types.ts';
import { InvalidUtf8 } from './invalid-utf8.ts';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

const isMagic = (b: Uint8Array, at: number) => MAGIC.every((m, k) => b[at + k] === m);

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** hyparquet's string parser, strict: invalid bytes become an InvalidUtf8 the row converter reports. */
function stringFromBytes(b: Uint8Array | undefined): string | InvalidUtf8 | undefined {
  if (!b) return b;
  try {
    return strict.decode(b);
  } catch {
    return new InvalidUtf8(lenient.decode(b));
  }
}

/** The source as hyparquet's AsyncBuffer, counting the bytes it reads. */
function asyncBuffer(src: RandomAccessSource, counter: { bytes: number }): AsyncBuffer {
  return {
    byteLength: src.size,
    async slice(start, end) {
      const b = await src.read(start, (end ?? src.size) - start);
      counter.bytes += b.length;
      // A copy: hyparquet keeps ArrayBuffers, and a view into a larger buffer would pin all of it.
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
    },
  };
}

export async function readParquetMetadata(src: RandomAccessSource, file: string, buf?: AsyncBuffer): Promise<FileMetaData> {
  // These checks come before hyparquet so that a cut or foreign file gets a message a user understands.
  if (src.size < 12) throw new DataFileError(file, `is too short to be a Parquet file (${src.size} bytes)`);
  const head = await src.read(0, 4);
  if (!isMagic(head, 0)) throw new DataFileError(file, 'does not start with the Parquet magic "PAR1"');
  const tail = await src.read(src.size - 8, 8);
  if (!isMagic(tail, 4)) throw new DataFileError(file, 'is not a complete Parquet file: the footer magic is missing (truncated?)');
  const len = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (len + 12 > src.size) throw new DataFileError(file, `has a Parquet footer length (${len}) larger than the file (truncated?)`);
  try {
    // Exactly the footer: hyparquet's default first read is the last 512 KiB, a waste on a remote file.
    return await parquetMetadataAsync(buf ?? asyncBuffer(src, { bytes: 0 }), { initialFetchSize: len + 8 });
  } catch (e) {
    throw new DataFileError(file, `has a corrupt Parquet footer: ${(e as Error).message}`);
  }
}

/** int64 columns arrive as bigint, which JSON and the row converters do not take: a number when exact, else a string. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = plain(o[k]);
  }
  return v;
}

/**
 * hyparquet decodes snappy itself; the other codecs come from hyparquet-compressors, loaded only for files
 * that use one: a 115 kB chunk (brotli's dictionary most of it) that would otherwise sit in the worker bundle
 * (446 -> 350 kB without it), while most files are snappy.
 */
async function compressorsFor(metadata: FileMetaData): Promise<Compressors | undefined> {
  const builtIn = new Set(['UNCOMPRESSED', 'SNAPPY']);
  const needed = metadata.row_groups.some((g) => g.columns.some((c) => c.meta_data && !builtIn.has(c.meta_data.codec)));
  return needed ? (await import('hyparquet-compressors')).compressors : undefined;
}

export async function* readParquet(
  src: RandomAccessSource,
  file: string,
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<RawItem> {
  const counter = { bytes: 0 };
  const buf = asyncBuffer(src, counter);
  const metadata = await readParquetMetadata(src, file, buf);
  const groups = metadata.row_groups;
  const compressors = await compressorsFor(metadata);
  let row = 0;
  for (const [g, rg] of groups.entries()) {
    const n = Number(rg.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file: buf,
        metadata,
        rowStart: row,
        rowEnd: row + n,
        compressors,
        parsers: { stringFromBytes },
      });
    } catch (e) {
      throw new DataFileError(file, `row group ${g + 1} of ${groups.length} cannot be read: ${(e as Error).message}`);
    }
    if (rows.length !== n) throw new DataFileError(file, `row group ${g + 1} of ${groups.length} holds ${rows.length} rows, its header says ${n}`);
    onBytes?.(counter.bytes);
    for (const value of rows) {
      row++;
      yield { kind: 'record', value: plain(value), origin: { row, line: row } };
    }
  }
}
