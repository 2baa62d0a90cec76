// Byte sources for the parsers: a browser Blob/File, a bare ReadableStream, or a random-access handle
// (the Node adapter in node-file.ts). Text containers read them as a stream of chunks; Parquet needs
// random access and buffers only when handed a bare stream.
import { concatBytes } from '../util/bytes.ts';
import { DataFileError } from './types.ts';

/** Something that can be read at any offset: a Blob, a file handle, or bytes in memory. */
export interface RandomAccessSource {
  name: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  stream(): ReadableStream<Uint8Array>;
}

export type DataSource = Blob | ReadableStream<Uint8Array> | RandomAccessSource;

export type ProgressCallback = (bytesRead: number, totalBytes: number | undefined) => void;

export function isRandomAccess(s: DataSource): s is RandomAccessSource {
  return typeof (s as RandomAccessSource).read === 'function' && typeof (s as RandomAccessSource).size === 'number';
}

export function blobSource(blob: Blob, name?: string): RandomAccessSource {
  const fileName = name ?? (blob as File).name ?? 'blob';
  return {
    name: fileName,
    size: blob.size,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
    stream: () => blob.stream() as ReadableStream<Uint8Array>,
  };
}

export function bytesSource(bytes: Uint8Array, name = 'buffer'): RandomAccessSource {
  return {
    name,
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          // Handed out in 1 MiB pieces so consumers see the same chunking as from a file.
          for (let i = 0; i < bytes.length; i += 1 << 20) c.enqueue(bytes.subarray(i, Math.min(bytes.length, i + (1 << 20))));
          c.close();
        },
      }),
  };
}

/**
 * Pull-based view of a chunk stream that can look ahead at its first bytes (for magic numbers and content
 * sniffing) without losing them.
 */
export class ChunkReader {
  private pending: Uint8Array[] = [];
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private done = false;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly file: string,
    private readonly what = 'read',
  ) {
    this.reader = stream.getReader();
  }

  private async pull(): Promise<Uint8Array | null> {
    if (this.done) return null;
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await this.reader.read();
    } catch (e) {
      this.done = true;
      throw new DataFileError(this.file, `${this.what} failed: ${(e as Error).message ?? e}`);
    }
    if (r.done) {
      this.done = true;
      return null;
    }
    return r.value;
  }

  /** Up to n bytes from the start of what is left, without consuming them. */
  async peek(n: number): Promise<Uint8Array> {
    let have = this.pending.reduce((s, c) => s + c.length, 0);
    while (have < n) {
      const c = await this.pull();
      if (!c) break;
      if (c.length) {
        this.pending.push(c);
        have += c.length;
      }
    }
    const out = new Uint8Array(Math.min(n, have));
    let o = 0;
    for (const c of this.pending) {
      if (o >= out.length) break;
      const take = Math.min(c.length, out.length - o);
      out.set(c.subarray(0, take), o);
      o += take;
    }
    return out;
  }

  async next(): Promise<Uint8Array | null> {
    if (this.pending.length) return this.pending.shift()!;
    for (;;) {
      const c = await this.pull();
      if (!c || c.length) return c;
    }
  }

  /** The rest as a stream (for piping through a DecompressionStream). */
  toStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (ctrl) => {
        try {
          const c = await this.next();
          if (c) ctrl.enqueue(c);
          else ctrl.close();
        } catch (e) {
          ctrl.error(e);
        }
      },
      cancel: () => this.cancel(),
    });
  }

  async cancel(): Promise<void> {
    this.done = true;
    this.pending = [];
    try {
      await this.reader.cancel();
    } catch {
      // already errored or closed
    }
  }
}

/** Counts bytes as they pass, reporting at most every 256 KiB so the callback stays cheap. */
export function countingStream(
  stream: ReadableStream<Uint8Array>,
  total: number | undefined,
  onProgress: ProgressCallback | undefined,
  counter: { bytes: number },
): ReadableStream<Uint8Array> {
  let lastReport = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        counter.bytes += chunk.length;
        if (onProgress && counter.bytes - lastReport >= 1 << 18) {
          lastReport = counter.bytes;
          onProgress(counter.bytes, total);
        }
        ctrl.enqueue(chunk);
      },
      flush() {
        onProgress?.(counter.bytes, total);
      },
    }),
  );
}

export function gunzip(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return stream.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
}

export async function readAll(reader: ChunkReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let c = await reader.next(); c; c = await reader.next()) {
    parts.push(c);
    n += c.length;
  }
  return concat(parts, n);
}

/** The chunks joined into one array (the one chunk itself when there is only one); `total`: their summed length. */
export function concat(parts: Uint8Array[], total?: number): Uint8Array {
  return parts.length === 1 ? parts[0] : concatBytes(parts, total);
}
