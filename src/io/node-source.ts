// ByteSource over a Node file handle (Node only: keep it out of browser imports).
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkRange, type ByteSource } from './source.ts';

export interface NodeFileSource extends ByteSource {
  close(): Promise<void>;
}

export async function openNodeFile(path: string, name = basename(path)): Promise<NodeFileSource> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  const src: NodeFileSource = {
    name,
    size,
    async read(offset, length) {
      checkRange(src, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      // read() may return fewer bytes than asked (large reads, pipes); loop until the range is filled.
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`${name}: unexpected end of file at ${offset + done} (file shrank while reading?)`);
        done += bytesRead;
      }
      return out;
    },
    close: () => fh.close(),
  };
  return src;
}
