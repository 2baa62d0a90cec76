// A tiny Parquet writer for fixtures: flat, struct and list-of-struct columns; PLAIN or dictionary
// values; UNCOMPRESSED, SNAPPY or GZIP pages; data page v1 or v2; several pages and row groups.
import { gzipSync } from 'node:zlib';
import { snappyCompress } from './snappy-compress.ts';

export type LeafType = 'string' | 'double' | 'int64' | 'int32' | 'boolean';
export type ColumnSpec =
  | { name: string; type: LeafType; required?: boolean }
  | { name: string; type: 'struct'; fields: { name: string; type: LeafType }[] }
  | { name: string; type: 'messages' };

export interface WriteOptions {
  codec?: 'none' | 'snappy' | 'gzip';
  dictionary?: boolean;
  pageVersion?: 1 | 2;
  rowGroupSize?: number;
  /** Rows per data page (pages split at row boundaries). */
  pageRows?: number;
}

// ---- thrift compact writer ----
type F =
  | [number, 'i32' | 'i64', number]
  | [number, 'bin', Uint8Array | string]
  | [number, 'bool', boolean]
  | [number, 'struct', F[]]
  | [number, 'list-struct', F[][]]
  | [number, 'list-i32', number[]]
  | [number, 'list-bin', string[]];

class TW {
  b: number[] = [];
  varint(n: number) {
    do {
      let byte = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) byte |= 0x80;
      this.b.push(byte);
    } while (n > 0);
  }
  zz(n: number) {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  bin(v: Uint8Array | string) {
    const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
    this.varint(bytes.length);
    for (const x of bytes) this.b.push(x);
  }
  listHeader(n: number, t: number) {
    if (n < 15) this.b.push((n << 4) | t);
    else {
      this.b.push(0xf0 | t);
      this.varint(n);
    }
  }
  struct(fields: F[]) {
    let last = 0;
    for (const f of fields) {
      const [id, kind] = f;
      const t = { i32: 5, i64: 6, bin: 8, bool: f[2] === true ? 1 : 2, struct: 12, 'list-struct': 9, 'list-i32': 9, 'list-bin': 9 }[kind];
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.b.push((delta << 4) | t);
      else {
        this.b.push(t);
        this.zz(id);
      }
      last = id;
      switch (kind) {
        case 'i32':
        case 'i64':
          this.zz(f[2] as number);
          break;
        case 'bin':
          this.bin(f[2] as Uint8Array | string);
          break;
        case 'bool':
          break;
        case 'struct':
          this.struct(f[2] as F[]);
          break;
        case 'list-struct':
          this.listHeader((f[2] as F[][]).length, 12);
          for (const s of f[2] as F[][]) this.struct(s);
          break;
        case 'list-i32':
          this.listHeader((f[2] as number[]).length, 5);
          for (const v of f[2] as number[]) this.zz(v);
          break;
        case 'list-bin':
          this.listHeader((f[2] as string[]).length, 8);
          for (const v of f[2] as string[]) this.bin(v);
          break;
      }
    }
    this.b.push(0);
  }
}

export function thriftStruct(fields: F[]): Uint8Array {
  const w = new TW();
  w.struct(fields);
  return Uint8Array.from(w.b);
}

// ---- schema ----
interface Node {
  name: string;
  rep: 0 | 1 | 2; // REQUIRED, OPTIONAL, REPEATED
  type?: LeafType;
  converted?: number;
  children: Node[];
  leaf?: number;
  maxDef: number;
  maxRep: number;
  path: string[];
}

const PHYS: Record<LeafType, number> = { boolean: 0, int32: 1, int64: 2, double: 5, string: 6 };

function buildSchema(cols: ColumnSpec[]): { root: Node; leaves: Node[] } {
  const leaves: Node[] = [];
  const mk = (name: string, rep: 0 | 1 | 2, parent: Node | null, type?: LeafType, converted?: number): Node => {
    const n: Node = {
      name,
      rep,
      type,
      converted,
      children: [],
      maxDef: (parent?.maxDef ?? 0) + (parent && rep !== 0 ? 1 : 0),
      maxRep: (parent?.maxRep ?? 0) + (rep === 2 ? 1 : 0),
      path: parent ? [...parent.path, name] : [],
    };
    parent?.children.push(n);
    if (type) {
      n.leaf = leaves.length;
      leaves.push(n);
    }
    return n;
  };
  const root = mk('schema', 0, null);
  for (const c of cols) {
    if (c.type === 'struct') {
      const g = mk(c.name, 1, root);
      for (const f of c.fields) mk(f.name, 1, g, f.type, f.type === 'string' ? 0 : undefined);
    } else if (c.type === 'messages') {
      const g = mk(c.name, 1, root, undefined, 3);
      const list = mk('list', 2, g);
      const el = mk('element', 1, list);
      mk('content', 1, el, 'string', 0);
      mk('role', 1, el, 'string', 0);
    } else mk(c.name, c.required ? 0 : 1, root, c.type, c.type === 'string' ? 0 : undefined);
  }
  return { root, leaves };
}

function flatSchema(root: Node): F[][] {
  const out: F[][] = [];
  const walk = (n: Node, isRoot: boolean) => {
    const f: F[] = [];
    if (n.type) f.push([1, 'i32', PHYS[n.type]]);
    if (!isRoot) f.push([3, 'i32', n.rep]);
    f.push([4, 'bin', n.name]);
    if (n.children.length) f.push([5, 'i32', n.children.length]);
    if (n.converted !== undefined) f.push([6, 'i32', n.converted]);
    out.push(f);
    for (const c of n.children) walk(c, false);
  };
  walk(root, true);
  return out;
}

// ---- shredding ----
type Triplet = [number, number, unknown];

function shred(root: Node, leaves: Node[], rows: Record<string, unknown>[]): Triplet[][] {
  const cols: Triplet[][] = leaves.map(() => []);
  const nullLeaves = (n: Node, r: number, d: number) => {
    if (n.leaf !== undefined) cols[n.leaf].push([r, d, undefined]);
    for (const c of n.children) nullLeaves(c, r, d);
  };
  const node = (n: Node, v: unknown, r: number, d: number) => {
    if (n.rep === 2) {
      const arr = (v as unknown[] | null | undefined) ?? [];
      if (!arr.length) return nullLeaves(n, r, d);
      arr.forEach((e, i) => elem(n, e, i === 0 ? r : n.maxRep, d + 1));
    } else if (n.rep === 1) {
      if (v === null || v === undefined) return nullLeaves(n, r, d);
      elem(n, v, r, d + 1);
    } else elem(n, v, r, d);
  };
  const elem = (n: Node, v: unknown, r: number, d: number) => {
    if (n.leaf !== undefined) {
      cols[n.leaf].push([r, d, v]);
      return;
    }
    if (n.converted === 3) {
      const child = n.children[0];
      node(child, (v as unknown[]).map((e) => ({ [child.children[0].name]: e })), r, d);
      return;
    }
    for (const c of n.children) node(c, (v as Record<string, unknown>)[c.name], r, d);
  };
  for (const row of rows) for (const c of root.children) node(c, row[c.name], 0, 0);
  return cols;
}

// ---- encodings ----
function hybrid(values: number[], width: number): number[] {
  const out: number[] = [];
  const w = new TW();
  let i = 0;
  while (i < values.length) {
    let run = 1;
    while (i + run < values.length && values[i + run] === values[i]) run++;
    if (run >= 8 || width === 0) {
      w.b = [];
      w.varint(run << 1);
      out.push(...w.b);
      for (let k = 0; k < Math.ceil(width / 8); k++) out.push((values[i] >> (8 * k)) & 0xff);
      i += run;
    } else {
      const group = values.slice(i, i + 8);
      while (group.length < 8) group.push(0);
      w.b = [];
      w.varint((1 << 1) | 1);
      out.push(...w.b);
      let acc = 0;
      let bits = 0;
      for (const v of group) {
        acc |= v << bits;
        bits += width;
        while (bits >= 8) {
          out.push(acc & 0xff);
          acc >>>= 8;
          bits -= 8;
        }
      }
      if (bits > 0) out.push(acc & 0xff);
      i += 8;
    }
  }
  return out;
}

const bitWidth = (max: number) => (max === 0 ? 0 : 32 - Math.clz32(max));

function plain(type: LeafType, vals: unknown[]): number[] {
  const out: number[] = [];
  const dv = new DataView(new ArrayBuffer(8));
  for (const v of vals) {
    if (type === 'string') {
      const b = v instanceof Uint8Array ? v : new TextEncoder().encode(v as string);
      dv.setUint32(0, b.length, true);
      out.push(...new Uint8Array(dv.buffer, 0, 4), ...b);
    } else if (type === 'double') {
      dv.setFloat64(0, v as number, true);
      out.push(...new Uint8Array(dv.buffer, 0, 8));
    } else if (type === 'int64') {
      dv.setBigInt64(0, BigInt(v as number), true);
      out.push(...new Uint8Array(dv.buffer, 0, 8));
    } else if (type === 'int32') {
      dv.setInt32(0, v as number, true);
      out.push(...new Uint8Array(dv.buffer, 0, 4));
    }
  }
  if (type === 'boolean') {
    const bytes = new Array(Math.ceil(vals.length / 8)).fill(0);
    vals.forEach((v, i) => v && (bytes[i >> 3] |= 1 << (i & 7)));
    out.push(...bytes);
  }
  return out;
}

function compress(codec: WriteOptions['codec'], b: Uint8Array): Uint8Array {
  if (codec === 'snappy') return snappyCompress(b);
  if (codec === 'gzip') return new Uint8Array(gzipSync(b));
  return b;
}

const CODEC_ID = { none: 0, snappy: 1, gzip: 2 };

export function writeParquet(cols: ColumnSpec[], rows: Record<string, unknown>[], opts: WriteOptions = {}): Uint8Array {
  const codec = opts.codec ?? 'none';
  const { root, leaves } = buildSchema(cols);
  const parts: number[][] = [[0x50, 0x41, 0x52, 0x31]];
  let offset = 4;
  const push = (b: ArrayLike<number>) => {
    parts.push(Array.from(b));
    offset += b.length;
  };
  const rowGroups: F[][] = [];
  const rgSize = opts.rowGroupSize ?? (rows.length || 1);
  for (let g = 0; g * rgSize < Math.max(rows.length, 1); g++) {
    const groupRows = rows.slice(g * rgSize, (g + 1) * rgSize);
    const columns = shred(root, leaves, groupRows);
    const colMetas: F[][] = [];
    leaves.forEach((leaf, li) => {
      const trip = columns[li];
      const start = offset;
      let dictOffset: number | undefined;
      let dict: unknown[] | null = null;
      const dictIndex = new Map<unknown, number>();
      if (opts.dictionary) {
        dict = [];
        for (const [, d, v] of trip) if (d === leaf.maxDef && !dictIndex.has(v)) dictIndex.set(v, dict.push(v) - 1);
        const raw = Uint8Array.from(plain(leaf.type!, dict));
        const body = compress(codec, raw);
        dictOffset = offset;
        push(thriftStruct([[1, 'i32', 2], [2, 'i32', raw.length], [3, 'i32', body.length], [7, 'struct', [[1, 'i32', dict.length], [2, 'i32', 0]]]]));
        push(body);
      }
      const dataOffset = offset;
      // Split into pages at row starts.
      const pageRows = opts.pageRows ?? Infinity;
      const pages: Triplet[][] = [];
      let cur: Triplet[] = [];
      let rowsInPage = 0;
      for (const t of trip) {
        if (t[0] === 0) {
          if (rowsInPage >= pageRows) {
            pages.push(cur);
            cur = [];
            rowsInPage = 0;
          }
          rowsInPage++;
        }
        cur.push(t);
      }
      if (cur.length || !pages.length) pages.push(cur);
      for (const page of pages) {
        const reps = page.map((t) => t[0]);
        const defs = page.map((t) => t[1]);
        const vals = page.filter((t) => t[1] === leaf.maxDef).map((t) => t[2]);
        const repBytes = leaf.maxRep ? hybrid(reps, bitWidth(leaf.maxRep)) : [];
        const defBytes = leaf.maxDef ? hybrid(defs, bitWidth(leaf.maxDef)) : [];
        let valBytes: number[];
        if (dict) {
          const width = Math.max(1, bitWidth(dict.length - 1));
          valBytes = [width, ...hybrid(vals.map((v) => dictIndex.get(v)!), width)];
        } else valBytes = plain(leaf.type!, vals);
        const enc = dict ? 8 : 0;
        if ((opts.pageVersion ?? 1) === 1) {
          const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
          const raw = Uint8Array.from([
            ...(leaf.maxRep ? [...u32(repBytes.length), ...repBytes] : []),
            ...(leaf.maxDef ? [...u32(defBytes.length), ...defBytes] : []),
            ...valBytes,
          ]);
          const body = compress(codec, raw);
          push(thriftStruct([[1, 'i32', 0], [2, 'i32', raw.length], [3, 'i32', body.length], [5, 'struct', [[1, 'i32', page.length], [2, 'i32', enc], [3, 'i32', 3], [4, 'i32', 3]]]]));
          push(body);
        } else {
          const vBody = compress(codec, Uint8Array.from(valBytes));
          const nulls = page.filter((t) => t[1] < leaf.maxDef).length;
          const rowsN = page.filter((t) => t[0] === 0).length;
          push(
            thriftStruct([
              [1, 'i32', 3],
              [2, 'i32', repBytes.length + defBytes.length + valBytes.length],
              [3, 'i32', repBytes.length + defBytes.length + vBody.length],
              [8, 'struct', [[1, 'i32', page.length], [2, 'i32', nulls], [3, 'i32', rowsN], [4, 'i32', enc], [5, 'i32', defBytes.length], [6, 'i32', repBytes.length], [7, 'bool', codec !== 'none']]],
            ]),
          );
          push(repBytes);
          push(defBytes);
          push(vBody);
        }
      }
      const md: F[] = [
        [1, 'i32', PHYS[leaf.type!]],
        [2, 'list-i32', dict ? [0, 3, 8] : [0, 3]],
        [3, 'list-bin', leaf.path],
        [4, 'i32', CODEC_ID[codec]],
        [5, 'i64', trip.length],
        [6, 'i64', offset - start],
        [7, 'i64', offset - start],
        [9, 'i64', dataOffset],
      ];
      if (dictOffset !== undefined) md.push([11, 'i64', dictOffset]);
      colMetas.push([[2, 'i64', start], [3, 'struct', md]]);
    });
    rowGroups.push([[1, 'list-struct', colMetas], [2, 'i64', 0], [3, 'i64', groupRows.length]]);
    if (!rows.length) break;
  }
  const footer = thriftStruct([
    [1, 'i32', 1],
    [2, 'list-struct', flatSchema(root)],
    [3, 'i64', rows.length],
    [4, 'list-struct', rowGroups],
    [6, 'bin', 'cpo-studio test writer'],
  ]);
  push(footer);
  push([footer.length & 0xff, (footer.length >> 8) & 0xff, (footer.length >> 16) & 0xff, footer.length >>> 24]);
  push([0x50, 0x41, 0x52, 0x31]);
  const out = new Uint8Array(offset);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
