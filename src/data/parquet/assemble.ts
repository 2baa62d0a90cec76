// Record assembly (Dremel): turns each leaf column's (repetition, definition, value) triplets into
// nested per-row values, then zips sibling leaves into structs, unwrapping LIST and MAP annotations.
import { InvalidUtf8, type ColumnData } from './column.ts';
import { Repetition, type SchemaElement } from './metadata.ts';

export interface SchemaNode {
  name: string;
  element: SchemaElement;
  repetition: Repetition;
  children: SchemaNode[];
  /** Max definition / repetition level at this node. */
  def: number;
  rep: number;
  /** Leaf column indices under this node, in column order. */
  leaves: number[];
  /** For leaves: definition levels of the repeated nodes on the path, outermost first. */
  repeatedDefs: number[];
  path: string[];
}

const CONVERTED_MAP = 1;
const CONVERTED_MAP_KEY_VALUE = 2;
const CONVERTED_LIST = 3;
const LOGICAL_MAP = 2;
const LOGICAL_LIST = 3;

export function buildSchemaTree(schema: SchemaElement[]): { root: SchemaNode; leaves: SchemaNode[] } {
  const leaves: SchemaNode[] = [];
  let i = 0;
  const make = (parent: SchemaNode | null): SchemaNode => {
    const el = schema[i++];
    if (!el) throw new Error('schema ends early');
    const repetition = parent ? (el.repetition ?? Repetition.REQUIRED) : Repetition.REQUIRED;
    const node: SchemaNode = {
      name: el.name,
      element: el,
      repetition,
      children: [],
      def: (parent?.def ?? 0) + (parent && repetition !== Repetition.REQUIRED ? 1 : 0),
      rep: (parent?.rep ?? 0) + (repetition === Repetition.REPEATED ? 1 : 0),
      leaves: [],
      repeatedDefs: [...(parent?.repeatedDefs ?? [])],
      path: parent ? [...parent.path, el.name] : [],
    };
    if (parent && repetition === Repetition.REPEATED) node.repeatedDefs.push(node.def);
    const n = el.numChildren ?? 0;
    if (n === 0 && parent) {
      node.leaves.push(leaves.length);
      leaves.push(node);
    }
    for (let k = 0; k < n; k++) {
      const child = make(node);
      node.children.push(child);
      node.leaves.push(...child.leaves);
    }
    return node;
  };
  const root = make(null);
  return { root, leaves };
}

/** A null found at definition level d (something on the path at depth > d is missing). */
class NullAt {
  constructor(readonly d: number) {}
}
const NULLS: NullAt[] = [];
const nullAt = (d: number) => (NULLS[d] ??= new NullAt(d));

/** Per-row nested arrays (one level per repeated node on the leaf's path). */
export function leafRows(leaf: SchemaNode, col: ColumnData, numRows: number): unknown[] {
  const R = leaf.repeatedDefs.length;
  const maxDef = leaf.def;
  const defs = leaf.repeatedDefs;
  const rows: unknown[] = [];
  const stack: unknown[][] = new Array(R + 1);
  const n = col.def ? col.def.length : col.rep ? col.rep.length : col.values.length;
  let vi = 0;
  const build = (k: number, d: number, v: unknown): unknown => {
    if (k === R) return d === maxDef ? v : nullAt(d);
    const dn = defs[k];
    if (d < dn) return d === dn - 1 ? [] : nullAt(d);
    const arr = [build(k + 1, d, v)];
    stack[k + 1] = arr;
    return arr;
  };
  for (let i = 0; i < n; i++) {
    const r = col.rep ? col.rep[i] : 0;
    const d = col.def ? col.def[i] : maxDef;
    const v = d === maxDef ? col.values[vi++] : undefined;
    if (r === 0) rows.push(build(0, d, v));
    else {
      if (!stack[r]) throw new Error(`column ${leaf.path.join('.')}: repetition level ${r} before any row`);
      stack[r].push(build(r, d, v));
    }
  }
  if (rows.length !== numRows) throw new Error(`column ${leaf.path.join('.')} has ${rows.length} rows, the row group ${numRows}`);
  return rows;
}

function nodeValue(node: SchemaNode, slots: unknown[]): unknown {
  if (node.repetition === Repetition.REPEATED) {
    const s0 = slots[0];
    if (s0 instanceof NullAt) return s0;
    const len = (s0 as unknown[]).length;
    const out = new Array(len);
    for (let j = 0; j < len; j++) {
      const sub = slots.map((s) => (s as unknown[])[j]);
      const v = elemValue(node, sub);
      out[j] = v instanceof NullAt ? null : v;
    }
    return out;
  }
  return elemValue(node, slots);
}

function elemValue(node: SchemaNode, slots: unknown[]): unknown {
  if (node.children.length === 0) return slots[0];
  for (const s of slots) if (s instanceof NullAt && s.d < node.def) return s;
  const obj: Record<string, unknown> = {};
  let off = 0;
  for (const child of node.children) {
    const k = child.leaves.length;
    const v = nodeValue(child, k === slots.length ? slots : slots.slice(off, off + k));
    off += k;
    obj[child.name] = v instanceof NullAt ? null : v;
  }
  const el = node.element;
  const isList = el.convertedType === CONVERTED_LIST || el.logicalType === LOGICAL_LIST;
  const isMap =
    el.convertedType === CONVERTED_MAP || el.convertedType === CONVERTED_MAP_KEY_VALUE || el.logicalType === LOGICAL_MAP;
  if (isList && node.children.length === 1) {
    const repNode = node.children[0];
    const list = obj[repNode.name];
    // 3-level lists wrap each element in a one-field group; legacy 2-level ones ("array", "<name>_tuple") do not.
    if (
      Array.isArray(list) &&
      repNode.children.length === 1 &&
      repNode.name !== 'array' &&
      repNode.name !== `${node.name}_tuple`
    ) {
      const inner = repNode.children[0].name;
      return list.map((e) => (e === null ? null : (e as Record<string, unknown>)[inner]));
    }
    return list;
  }
  if (isMap && node.children.length === 1) {
    const kv = obj[node.children[0].name];
    if (!Array.isArray(kv)) return kv;
    const m: Record<string, unknown> = {};
    for (const e of kv as Record<string, unknown>[]) if (e) m[String(e.key)] = e.value;
    return m;
  }
  return obj;
}

export function assembleRows(root: SchemaNode, leafRowsList: unknown[][], numRows: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = new Array(numRows);
  for (let i = 0; i < numRows; i++) {
    out[i] = elemValue(
      root,
      leafRowsList.map((l) => l[i]),
    ) as Record<string, unknown>;
  }
  return out;
}

export { InvalidUtf8 };
