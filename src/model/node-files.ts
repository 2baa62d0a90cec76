// A FileProvider over a folder (or a single .gguf file) on disk, for the CLI and tests.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openNodeFile } from '../io/node-source.ts';
import type { FileProvider } from './load.ts';

export function nodeFiles(path: string): FileProvider {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`${path}: no such file or folder`);
  }
  const dir = st.isDirectory() ? path : dirname(path);
  const list = st.isDirectory() ? readdirSync(path) : [basename(path)];
  const opened: { close(): Promise<void> }[] = [];
  return {
    name: basename(path),
    files: () => list,
    open: async (f) => {
      const src = await openNodeFile(join(dir, f), f);
      opened.push(src);
      return src;
    },
    close: async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    },
  };
}
