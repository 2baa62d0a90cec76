// Byte-range access to a file wherever it lives (Node file, browser Blob/File, memory), so parsers read
// one header and then one tensor at a time and never hold a whole multi-gigabyte checkpoint in memory.
// The Node implementation lives in node-source.ts so that browser bundles never pull in node:fs.

export interface ByteSource {
  /** File name, used in every error message. */
  name: string;
  size: number;
  /** Exactly `length` bytes starting at `offset`; rejects a range outside [0, size). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > src.size) {
    throw new Error(`${src.name}: read of ${length} bytes at ${offset} is outside the file (${src.size} bytes)`);
  }
}

export function memorySource(bytes: Uint8Array, name = 'memory'): ByteSource {
  const src: ByteSource = {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(src, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
  return src;
}

export function blobSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  const src: ByteSource = {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(src, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
  return src;
}
