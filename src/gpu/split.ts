// Tensors larger than one storage binding are split by rows into parts that each fit,
// never refused: Qwen2.5-0.5B's embedding (151936 x 896 in F16, 272 MB) exceeds the default 128 MiB binding.
// Rows are whole quantization blocks' worth of a weight's output dimension, so a part is always self-contained.

export interface RowPart {
  /** First row (inclusive) and end row (exclusive) of this part. */
  start: number;
  end: number;
  byteOffset: number;
  byteLength: number;
}

export function splitRows(rows: number, bytesPerRow: number, maxBytes: number, rowAlign = 1): RowPart[] {
  if (bytesPerRow > maxBytes) throw new Error(`one row of ${bytesPerRow} bytes exceeds the ${maxBytes}-byte binding limit`);
  let per = Math.floor(maxBytes / bytesPerRow);
  per = Math.max(rowAlign, per - (per % rowAlign));
  const parts: RowPart[] = [];
  for (let start = 0; start < rows; start += per) {
    const end = Math.min(rows, start + per);
    parts.push({ start, end, byteOffset: start * bytesPerRow, byteLength: (end - start) * bytesPerRow });
  }
  return parts;
}
