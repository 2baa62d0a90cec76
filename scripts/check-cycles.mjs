// Prints the import cycles among src/ modules and exits 1 if there are any: `node scripts/check-cycles.mjs`.
// Cycles through `import type` are listed too (madge counts them; they tie modules together for readers and
// bundlers even though nothing runs in a loop) — `--runtime` ignores them. Also reports src/ files importing
// tests/. Relative specifiers only (packages cannot import us back); strongly connected components by Tarjan.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(n) ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s)?[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Module → the modules it imports; `runtime`: only imports that load code (not `import type` / `export type`). */
export function importGraph(runtime = false) {
  const graph = new Map();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const deps = new Set();
    for (const m of text.matchAll(IMPORT)) {
      if (runtime && m[1]) continue;
      const spec = (m[2] ?? m[3]).replace(/\?raw$/, '');
      if (!/\.(ts|tsx)$/.test(spec)) continue;
      deps.add(resolve(dirname(f), spec));
    }
    graph.set(f, deps);
  }
  return graph;
}

export function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v).has(v)) out.push(scc.map((p) => relative(ROOT, p)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

export function testImports(graph) {
  const tests = join(ROOT, 'tests');
  return [...graph].flatMap(([f, deps]) => [...deps].filter((d) => d.startsWith(tests + '/')).map((d) => `${relative(ROOT, f)} → ${relative(ROOT, d)}`));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const g = importGraph(process.argv.includes('--runtime'));
  const found = cycles(g);
  for (const c of found) console.log(`cycle: ${c.join(' ↔ ')}`);
  for (const t of testImports(g)) console.log(`src imports tests: ${t}`);
  console.log(`${g.size} modules, ${found.length} cycle(s)`);
  process.exit(found.length ? 1 : 0);
}
