// 100,000 rows (~50 MB) generated as a stream: parsed with bounded memory, and fast enough.
import { describe, expect, it } from 'vitest';
import { readPreferenceFile, streamPreferenceRows } from '../../src/data/index.ts';

const ROWS = 100_000;
const filler = 'The quick brown fox jumps over the lazy dog while the committee debates the budget. ';

function bigStream(): { stream: ReadableStream<Uint8Array>; bytes: () => number } {
  const te = new TextEncoder();
  let i = 0;
  let bytes = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i >= ROWS) return c.close();
      let s = '';
      for (const end = Math.min(ROWS, i + 500); i < end; i++) {
        s += JSON.stringify({
          prompt: `Row ${i}: ${filler.repeat(2)}`,
          chosen: ` Answer ${i} ${filler.repeat(2)}`,
          rejected: ` Wrong ${i} ${filler}`,
        }) + '\n';
      }
      const b = te.encode(s);
      bytes += b.length;
      c.enqueue(b);
    },
  });
  return { stream, bytes: () => bytes };
}

describe('large file', () => {
  it('streams 100k rows / ~50 MB with bounded heap growth', async () => {
    const { stream, bytes } = bigStream();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    const t0 = performance.now();
    const { report } = await streamPreferenceRows(stream, { name: 'big.jsonl', onProgress: () => (peak = Math.max(peak, process.memoryUsage().heapUsed - base)) }, () => n++);
    const s = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    console.log(`streamed ${n} rows, ${(bytes() / 2 ** 20).toFixed(1)} MiB in ${s.toFixed(2)} s (${Math.round(n / s)} rows/s); peak heap growth ${(peak / 2 ** 20).toFixed(1)} MiB`);
    expect(n).toBe(ROWS);
    expect(report.rowsUsable).toBe(ROWS);
    expect(bytes()).toBeGreaterThan(45 * 2 ** 20);
    // Rows are not kept: the heap holds a chunk, a line and the duplicate-check hashes (plus uncollected garbage).
    expect(peak).toBeLessThan(0.8 * bytes());
  });

  it('collects 100k rows holding well under three copies of the file', async () => {
    const { stream, bytes } = bigStream();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    const t0 = performance.now();
    const r = await readPreferenceFile(stream, { name: 'big.jsonl', onProgress: () => (peak = Math.max(peak, process.memoryUsage().heapUsed - base)) });
    const s = (performance.now() - t0) / 1000;
    const held = process.memoryUsage().heapUsed - base;
    peak = Math.max(peak, held);
    console.log(`collected ${r.rows.length} rows in ${s.toFixed(2)} s; heap growth ${(held / 2 ** 20).toFixed(1)} MiB (peak ${(peak / 2 ** 20).toFixed(1)} MiB) for ${(bytes() / 2 ** 20).toFixed(1)} MiB of input`);
    expect(r.rows).toHaveLength(ROWS);
    expect(peak).toBeLessThan(2 * bytes());
  });
});
