// Node adapter: a file path as a RandomAccessSource. Kept apart from the rest so browser bundles never
// import node:fs.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { readPreferenceFile, type ReadOptions, type ReadResult } from './read.ts';
import type { RandomAccessSource } from './source.ts';
import { DataFileError } from './types.ts';

export interface NodeFileSource extends RandomAccessSource {
  close(): Promise<void>;
}

export async function openDataFile(path: string): Promise<NodeFileSource> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new DataFileError(path, `cannot be opened: ${(e as Error).message}`);
  }
  const h = handle;
  const st = await h.stat();
  if (st.isDirectory()) {
    await h.close();
    throw new DataFileError(path, 'is a directory');
  }
  return {
    name: basename(path),
    size: st.size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await h.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    stream() {
      let pos = 0;
      return new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          const buf = new Uint8Array(1 << 20);
          const { bytesRead } = await h.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) ctrl.close();
          else {
            pos += bytesRead;
            ctrl.enqueue(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
          }
        },
      });
    },
    close: () => h.close(),
  };
}

/** readPreferenceFile on a path; messages name the path as given. */
export async function readPreferenceFilePath(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const src = await openDataFile(path);
  try {
    return await readPreferenceFile(src, { name: path, ...options });
  } finally {
    await src.close();
  }
}
