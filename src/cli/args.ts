// Command-line options through Node's own parser (node:util parseArgs, strict): unknown options and stray
// arguments are errors, every command takes -h/--help, numbers and choices are checked here and the message
// names the option and what it accepts. A UsageError exits 2, as Node tools do; other errors exit 1.
import { parseArgs as nodeParseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean' | 'strings';
  default?: unknown;
  help: string;
  short?: string;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** Inclusive bounds of a number option; `integer` refuses fractions. */
  min?: number;
  max?: number;
  /** The lower bound itself is not allowed (e.g. > 0). */
  minExclusive?: boolean;
  integer?: boolean;
}

export interface ArgSpec {
  [name: string]: OptionSpec;
}

export type Parsed = Record<string, unknown> & { help?: boolean };

/** Bad command-line usage: the message is printed with a pointer to --help, and the process exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

function checkNumber(command: string, name: string, s: OptionSpec, raw: string): number {
  const n = raw.trim() === '' ? NaN : Number(raw);
  const range = () => {
    if (s.min !== undefined && s.max !== undefined) return `${s.integer ? 'an integer' : 'a number'} in ${s.minExclusive ? '(' : '['}${s.min}, ${s.max}]`;
    if (s.min !== undefined) return `${s.integer ? 'an integer' : 'a number'} ${s.minExclusive ? '>' : '>='} ${s.min}`;
    return s.integer ? 'an integer' : 'a number';
  };
  const bad = !Number.isFinite(n) || (s.integer && !Number.isInteger(n)) || (s.min !== undefined && (s.minExclusive ? n <= s.min : n < s.min)) || (s.max !== undefined && n > s.max);
  if (bad) throw new UsageError(`${command}: --${name} expects ${range()}, got ${JSON.stringify(raw)}`);
  return n;
}

export function checkChoice(command: string, name: string, choices: readonly string[], v: string): string {
  if (!choices.includes(v)) throw new UsageError(`${command}: --${name} must be one of ${choices.join(', ')}; got ${JSON.stringify(v)}`);
  return v;
}

/** Parses argv against the spec (with -h/--help added); throws UsageError naming the option at fault. */
export function parseArgs(argv: string[], spec: ArgSpec, command: string): Parsed {
  const full: ArgSpec = { ...spec, help: HELP };
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [k, s] of Object.entries(full)) options[k] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.type === 'strings' ? { multiple: true } : {}), ...(s.short ? { short: s.short } : {}) };
  let values: Record<string, unknown>;
  try {
    ({ values } = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /'([^']*)'/.exec(err.message)?.[1] ?? '';
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`${command}: unknown option ${m}`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`${command}: unexpected argument ${JSON.stringify(m)} (options are given as --name value)`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const opt = m.split(' ')[0];
        if (/ambiguous/.test(err.message)) throw new UsageError(`${command}: ${opt} needs a value; a value starting with "-" is written ${opt}=VALUE`);
        if (/argument missing/.test(err.message)) throw new UsageError(`${command}: ${opt} needs a value`);
        throw new UsageError(`${command}: ${opt}: ${err.message.split('\n')[0]}`);
      }
      default:
        throw new UsageError(`${command}: ${err.message.split('\n')[0]}`);
    }
  }
  const out: Parsed = {};
  for (const [k, s] of Object.entries(full)) {
    const v = values[k];
    if (v === undefined) {
      if (s.default !== undefined) out[k] = s.default;
      continue;
    }
    if (s.type === 'number') out[k] = checkNumber(command, k, s, v as string);
    else if (s.type === 'string' && s.choices) out[k] = checkChoice(command, k, s.choices, v as string);
    else out[k] = v;
  }
  return out;
}

export function usage(command: string, synopsis: string, spec: ArgSpec): string {
  const lines = [`usage: cpo-studio ${command} ${synopsis}`, ''];
  for (const [k, s] of Object.entries({ ...spec, help: HELP })) {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${k}`;
    const def = s.default !== undefined && s.default !== false ? ` (default ${JSON.stringify(s.default)})` : '';
    lines.push(`  ${flag.padEnd(24)} ${s.help}${s.choices ? `: ${s.choices.join(' | ')}` : ''}${def}`);
  }
  return lines.join('\n');
}

export function required<T>(p: Parsed, name: string, command: string): T {
  if (p[name] === undefined) throw new UsageError(`${command}: --${name} is required`);
  return p[name] as T;
}

/** Runs a command's body unless -h/--help was given; the usage goes to stdout. */
export function helpOr(a: Parsed, command: string, synopsis: string, spec: ArgSpec): boolean {
  if (!a.help) return false;
  console.log(usage(command, synopsis, spec));
  return true;
}

/**
 * A command's entry point: its errors become exit codes and one message on stderr — 2 for usage errors (with a
 * pointer to --help), 1 for everything else (the message names the file, line or field; CPO_DEBUG=1 adds the stack).
 */
export function command(name: string, body: (argv: string[]) => Promise<number>): (argv: string[]) => Promise<number> {
  return async (argv) => {
    try {
      return await body(argv);
    } catch (e) {
      if (e instanceof UsageError) {
        console.error(`${e.message}\n(see cpo-studio ${name} --help)`);
        return 2;
      }
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      if (process.env.CPO_DEBUG) console.error(e);
      return 1;
    }
  };
}
