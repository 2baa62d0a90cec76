// Parquet files as written by pyarrow / Hugging Face datasets: the footer is read first, then one row
// group at a time, so memory holds one row group's columns, never the whole file.
import type { RandomAccessSource } from '../source.ts';
import { DataFileError } from '../types.ts';
import type { RawItem } from '../containers/record.ts';
import { assembleRows, buildSchemaTree, leafRows } from './assemble.ts';
import { decodeColumnChunk } from './column.ts';
import { decodeFileMetaData, type FileMetaData } from './metadata.ts';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

const isMagic = (b: Uint8Array, at: number) => MAGIC.every((m, k) => b[at + k] === m);

export async function readParquetMetadata(src: RandomAccessSource, file: string): Promise<FileMetaData> {
  if (src.size < 12) throw new DataFileError(file, `is too short to be a Parquet file (${src.size} bytes)`);
  const head = await src.read(0, 4);
  if (!isMagic(head, 0)) throw new DataFileError(file, 'does not start with the Parquet magic "PAR1"');
  const tail = await src.read(src.size - 8, 8);
  if (!isMagic(tail, 4)) throw new DataFileError(file, 'is not a complete Parquet file: the footer magic is missing (truncated?)');
  const len = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (len + 12 > src.size) throw new DataFileError(file, `has a Parquet footer length (${len}) larger than the file (truncated?)`);
  const footer = await src.read(src.size - 8 - len, len);
  try {
    return decodeFileMetaData(footer);
  } catch (e) {
    throw new DataFileError(file, `has a corrupt Parquet footer: ${(e as Error).message}`);
  }
}

export async function* readParquet(
  src: RandomAccessSource,
  file: string,
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<RawItem> {
  const meta = await readParquetMetadata(src, file);
  let tree;
  try {
    tree = buildSchemaTree(meta.schema);
  } catch (e) {
    throw new DataFileError(file, `has a corrupt Parquet schema: ${(e as Error).message}`);
  }
  const { root, leaves } = tree;
  let row = 0;
  let bytes = 0;
  for (const [g, rg] of meta.rowGroups.entries()) {
    const perLeaf: unknown[][] = [];
    try {
      for (const [li, leaf] of leaves.entries()) {
        const col = rg.columns.find((c) => c.path.join('\u0000') === leaf.path.join('\u0000')) ?? rg.columns[li];
        if (!col) throw new Error(`row group ${g} lacks column ${leaf.path.join('.')}`);
        const start = col.dictionaryPageOffset && col.dictionaryPageOffset > 0 && col.dictionaryPageOffset < col.dataPageOffset
          ? col.dictionaryPageOffset
          : col.dataPageOffset;
        if (start + col.totalCompressedSize > src.size) throw new Error(`column ${leaf.path.join('.')} runs past the end of the file (truncated?)`);
        const chunk = await src.read(start, col.totalCompressedSize);
        bytes += chunk.length;
        const data = await decodeColumnChunk(chunk, col, {
          type: leaf.element.type ?? col.type,
          typeLength: leaf.element.typeLength ?? 0,
          maxDef: leaf.def,
          maxRep: leaf.rep,
        });
        perLeaf.push(leafRows(leaf, data, rg.numRows));
      }
    } catch (e) {
      if (e instanceof DataFileError) throw e;
      throw new DataFileError(file, `row group ${g + 1} of ${meta.rowGroups.length} cannot be read: ${(e as Error).message}`);
    }
    onBytes?.(bytes);
    const rows = assembleRows(root, perLeaf, rg.numRows);
    perLeaf.length = 0;
    for (const value of rows) {
      row++;
      yield { kind: 'record', value, origin: { row, line: row } };
    }
  }
}
