// A small, strict argument parser: --name value and --flag; unknown options are errors that name them.

export interface ArgSpec {
  [name: string]: { type: 'string' | 'number' | 'boolean' | 'strings'; default?: unknown; help: string };
}

export type Parsed = Record<string, unknown> & { _: string[] };

export function parseArgs(argv: string[], spec: ArgSpec, command: string): Parsed {
  const out: Parsed = { _: [] };
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) out[k] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    const [rawName, inline] = a.slice(2).split(/=(.*)/s, 2);
    const s = spec[rawName];
    if (!s) throw new Error(`${command}: unknown option --${rawName} (see --help)`);
    if (s.type === 'boolean') {
      out[rawName] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`${command}: --${rawName} needs a value`);
    if (s.type === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`${command}: --${rawName} expects a number, got ${JSON.stringify(v)}`);
      out[rawName] = n;
    } else if (s.type === 'strings') {
      out[rawName] = [...((out[rawName] as string[] | undefined) ?? []), v];
    } else out[rawName] = v;
  }
  return out;
}

export function usage(command: string, synopsis: string, spec: ArgSpec): string {
  const lines = [`usage: npm run cli -- ${command} ${synopsis}`, ''];
  for (const [k, s] of Object.entries(spec)) {
    lines.push(`  --${k.padEnd(20)} ${s.help}${s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ''}`);
  }
  return lines.join('\n');
}

export function required<T>(p: Parsed, name: string, command: string): T {
  if (p[name] === undefined) throw new Error(`${command}: --${name} is required`);
  return p[name] as T;
}
