// Files out of a drop: a dropped folder arrives as a directory entry, which only the entries API can walk.

type Entry = FileSystemEntry;

function readAll(dir: FileSystemDirectoryEntry): Promise<Entry[]> {
  const reader = dir.createReader();
  const out: Entry[] = [];
  return new Promise((resolve, reject) => {
    // readEntries returns at most 100 entries per call; call until it returns none.
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: Entry, out: File[], depth: number): Promise<void> {
  if (entry.isFile) {
    out.push(await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)));
  } else if (entry.isDirectory && depth < 4) {
    for (const e of await readAll(entry as FileSystemDirectoryEntry)) await walk(e, out, depth + 1);
  }
}

export async function filesFromDrop(dt: DataTransfer): Promise<File[]> {
  const items = [...(dt.items ?? [])].filter((i) => i.kind === 'file');
  const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((e): e is Entry => !!e);
  if (entries.length && entries.some((e) => e.isDirectory)) {
    const out: File[] = [];
    for (const e of entries) await walk(e, out, 0);
    return out;
  }
  return [...(dt.files ?? [])];
}

export const DATASET_EXTENSIONS = ['.jsonl', '.json', '.csv', '.tsv', '.parquet', '.gz'];

export function isDatasetFile(name: string): boolean {
  const n = name.toLowerCase();
  return DATASET_EXTENSIONS.some((e) => n.endsWith(e));
}
