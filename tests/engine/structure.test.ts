// The layers import downward only (gpu → kernels → model → train → engine → cli / workers / ui), nothing in src
// imports tests, and no module is part of an import cycle, `import type` ones included (scripts/check-cycles.mjs).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { cycles, importGraph, testImports } from '../../scripts/check-cycles.mjs';
import { REPO } from '../train/util.ts';

const graph = importGraph() as Map<string, Set<string>>;
const rel = (p: string) => relative(REPO, p);
// src/<area>/…; main.tsx (the page's entry) belongs to the UI, other files directly in src (settings.ts) to every layer.
const area = (p: string) => (rel(p) === 'src/main.tsx' ? 'ui' : rel(p).split('/').length === 2 ? 'shared' : rel(p).split('/')[1]);

describe('src import structure', () => {
  it('has no import cycle, not even through `import type`, and imports nothing from tests', () => {
    expect(cycles(graph)).toEqual([]);
    expect(testImports(graph)).toEqual([]);
  });

  it('lower layers never import the entrances, and the engine never imports a front door', () => {
    const entrances = new Set(['engine', 'cli', 'workers', 'ui']);
    const upward: string[] = [];
    for (const [from, deps] of graph) {
      const a = area(from);
      for (const d of deps) {
        const b = area(d);
        if ((!entrances.has(a) && entrances.has(b)) || (a === 'engine' && (b === 'cli' || b === 'workers' || b === 'ui'))) upward.push(`${rel(from)} → ${rel(d)}`);
      }
    }
    expect(upward).toEqual([]);
  });
});

describe('pure maths outside the GPU modules', () => {
  const runtime = importGraph(true) as Map<string, Set<string>>;
  const wgslUsers = new Set([...runtime.keys()].filter((f) => /from\s*['"][^'"]+\.wgsl\?raw['"]/.test(readFileSync(f, 'utf8'))));
  const reach = (from: string, seen = new Set<string>()): Set<string> => {
    for (const d of runtime.get(from) ?? []) if (!seen.has(d)) reach(d, seen.add(d));
    return seen;
  };

  it('io loads no WGSL module at all, and the ONNX exporter imports none directly (RoPE frequencies and f16 codecs are in util)', () => {
    expect(wgslUsers.size).toBeGreaterThan(5); // the check sees the kernels
    const bad: string[] = [];
    for (const f of runtime.keys()) {
      const a = area(f);
      if (a === 'io') for (const d of reach(f)) if (wgslUsers.has(d)) bad.push(`${rel(f)} ⇝ ${rel(d)}`);
      if (a === 'onnx') for (const d of runtime.get(f)!) if (wgslUsers.has(d)) bad.push(`${rel(f)} → ${rel(d)}`);
    }
    expect(bad).toEqual([]);
  });
});
