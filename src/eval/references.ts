// Reference-stream handling shared by BLEU and chrF, following sacreBLEU's Metric base class
// (sacrebleu/metrics/base.py): references come as streams (refs[k][i] is the k-th reference of
// segment i), empty or missing entries are dropped per segment, and `nrefs` becomes 'var' when
// segments end up with different reference counts.

/** refs[k][i]: the k-th reference for segment i. `null`/`undefined`/'' mean "no k-th reference here". */
export type ReferenceStreams = ReadonlyArray<ReadonlyArray<string | null | undefined>>;

export interface SegmentReferences {
  /** Per segment, its non-empty references in stream order. */
  segments: string[][];
  /** sacreBLEU's signature value: the common count, or 'var'. */
  nrefs: number | 'var';
}

export function collectReferences(numHyps: number, refs: ReferenceStreams): SegmentReferences {
  if (refs.length === 0) throw new Error('No reference streams given.');
  refs.forEach((stream, k) => {
    if (stream.length !== numHyps) {
      throw new Error(`Reference stream ${k + 1} has ${stream.length} segments but there are ${numHyps} hypotheses.`);
    }
  });
  const counts = new Set<number>();
  const segments: string[][] = [];
  for (let i = 0; i < numHyps; i++) {
    const lines: string[] = [];
    for (const stream of refs) {
      const r = stream[i];
      if (r !== null && r !== undefined && r !== '') lines.push(r);
    }
    if (lines.length === 0) throw new Error(`Empty or missing reference for segment ${i + 1}.`);
    counts.add(lines.length);
    segments.push(lines);
  }
  const nrefs = counts.size === 1 ? [...counts][0] : counts.size === 0 ? refs.length : 'var';
  return { segments, nrefs };
}

/** Version field of our signatures: the sacreBLEU major line we match, marked as this port. */
export const SIGNATURE_VERSION = '2.x-ts';

/** sacreBLEU's Signature.format(): pairs in insertion order, version last. */
export function formatSignature(pairs: ReadonlyArray<readonly [string, string | number]>, short: boolean, abbr: Readonly<Record<string, string>>): string {
  const all: Array<readonly [string, string | number]> = [...pairs, ['version', SIGNATURE_VERSION]];
  return all.map(([k, v]) => `${short ? (abbr[k] ?? k) : k}:${v}`).join('|');
}

export const COMMON_ABBR: Readonly<Record<string, string>> = { version: 'v', nrefs: '#' };
