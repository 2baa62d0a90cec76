import type { ByteSource } from '../../src/io/source.ts';

/** Wraps a source and records every range read, to prove parsers stream instead of slurping. */
export function countingSource(src: ByteSource): ByteSource & { reads: [number, number][]; bytesRead: () => number } {
  const reads: [number, number][] = [];
  return {
    name: src.name,
    size: src.size,
    reads,
    bytesRead: () => reads.reduce((s, [, n]) => s + n, 0),
    read(offset, length) {
      reads.push([offset, length]);
      return src.read(offset, length);
    },
  };
}

export async function rejects(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

export function throws(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an exception');
}
