// The shared WMT22 sets (../shared/data/wmt22) as parallel rows, and a fake candidate source for builder tests.
import { resolve } from 'node:path';
import { openDataFile } from '../../src/data/node-file.ts';
import { readParallel, type ParallelOptions } from '../../src/prefs/parallel.ts';
import type { CandidateSource } from '../../src/prefs/candidates.ts';
import type { ParallelRow } from '../../src/prefs/types.ts';
import { Rng } from '../../src/util/rng.ts';
import { REPO } from '../train/util.ts';

export const WMT22 = resolve(REPO, '../shared/data/wmt22');

export async function readWmt22(pair: string, limit: number, o: ParallelOptions = {}): Promise<ParallelRow[]> {
  const src = await openDataFile(resolve(WMT22, `${pair}.jsonl`));
  try {
    return (await readParallel(src, { pair, limit, columns: { systems: 'all' }, ...o })).rows;
  } finally {
    await src.close();
  }
}

/**
 * A stand-in for the model: per source, n variants of the reference with words dropped, drawn from a generator
 * seeded by the batch index (as the real source seeds its sampling), and a call log.
 */
export function fakeSource(n: number, seed = 0): CandidateSource & { calls: number[] } {
  const calls: number[] = [];
  const f = async (rows: readonly ParallelRow[], batchIndex: number) => {
    calls.push(batchIndex);
    const rng = new Rng(seed * 1000 + batchIndex);
    let tokens = 0;
    const texts = rows.map((r) =>
      Array.from({ length: n }, () => {
        const words = r.reference.split(' ').filter(() => rng.next() > 0.3);
        tokens += words.length;
        return words.join(' ');
      }),
    );
    return { texts, tokens };
  };
  return Object.assign(f, { calls });
}
