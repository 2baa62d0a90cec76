// The one way kernel generators (`<op>.gen.ts`) unroll loops into WGSL. SwiftShader turns an indexed private
// array into bounds-clamped per-lane stack traffic (several times slower, measured), so a register tile is
// written as named scalars (a0_1, k2_3, ...) and its loops are unrolled here, in TypeScript. Generators return
// unindented lines; preprocess() indents a generated block to its {{PLACEHOLDER}}'s column.

/** 0 .. n-1. */
export function range(n: number): number[] {
  return [...Array(n).keys()];
}

/** The statements of `body` for each index, one per line (a body may return several lines). */
export function unroll(n: number | readonly number[], body: (i: number) => string | readonly string[]): string {
  return (typeof n === 'number' ? range(n) : n).flatMap((i) => body(i)).join('\n');
}

/** The statements of `body` for each (i, j), j fastest. */
export function unroll2(n: number, m: number, body: (i: number, j: number) => string | readonly string[]): string {
  return unroll(n, (i) => unroll(m, (j) => body(i, j)));
}

/** A comma-separated list of `item` for each index (vector constructors, argument lists). */
export function list(n: number | readonly number[], item: (i: number) => string): string {
  return (typeof n === 'number' ? range(n) : n).map(item).join(', ');
}

/** `head {` + body indented by two spaces + `}`: a scoped or guarded block inside an unrolled loop. */
export function block(head: string, body: string | readonly string[]): string {
  const text = typeof body === 'string' ? body : body.join('\n');
  return `${head} {\n  ${text.replaceAll('\n', '\n  ')}\n}`;
}

/** The vector component names, for unrolling over x, y, z, w. */
export const XYZW = ['x', 'y', 'z', 'w'] as const;
