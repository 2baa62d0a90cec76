// `validate --data FILE [--json] [--strict]`: the data report without a model or a GPU — records read, rows
// usable, rows set aside with their line and reason, the detected container and row format, and length
// statistics in characters (tokens need the model's tokenizer: train, logps and grads report those).
// With --json, one JSON object on stdout (rows, usable, issues[{row, line, field, reason, message}], …).
import { issueTotal } from '../data/report.ts';
import type { PreferenceRow, ValidationReport } from '../data/types.ts';
import { formatReport } from '../data/index.ts';
import { command, helpOr, parseArgs, required, type ArgSpec } from './args.ts';
import { checkReport, readData, STRICT_OPTION } from './session.ts';

const SPEC: ArgSpec = {
  data: { type: 'string', help: 'preference file (any supported container and row format) or hf://datasets/OWNER/NAME[/CONFIG/SPLIT]' },
  json: { type: 'boolean', help: 'print the report as one JSON object on stdout' },
  strict: STRICT_OPTION,
};
const SYNOPSIS = '--data FILE [--json] [--strict]';

export interface LengthStats {
  min: number;
  max: number;
  mean: number;
  total: number;
}

function stats(xs: number[]): LengthStats {
  if (!xs.length) return { min: 0, max: 0, mean: 0, total: 0 };
  const total = xs.reduce((s, x) => s + x, 0);
  return { min: Math.min(...xs), max: Math.max(...xs), mean: total / xs.length, total };
}

/** Characters of each side of the usable rows (chat rows: the messages' contents together). */
export function characterLengths(rows: PreferenceRow[]): Record<'prompt' | 'chosen' | 'rejected', LengthStats> {
  const len = (v: string | { content: string }[]) => (typeof v === 'string' ? v.length : v.reduce((s, m) => s + m.content.length, 0));
  return {
    prompt: stats(rows.map((r) => len(r.prompt))),
    chosen: stats(rows.map((r) => len(r.chosen))),
    rejected: stats(rows.map((r) => len(r.rejected))),
  };
}

/** The report as the JSON `validate --json` prints: every issue with a line (the row number where a container has none). */
export function reportJson(report: ValidationReport, rows: PreferenceRow[]): Record<string, unknown> {
  return {
    file: report.file,
    container: report.container,
    format: report.format,
    bytes: report.bytesRead,
    rows: report.rowsRead,
    usable: report.rowsUsable,
    setAside: issueTotal(report),
    blankLines: report.blankLines,
    counts: report.counts,
    issues: report.issues.map((i) => ({ row: i.row, line: i.line ?? i.row, field: i.field ?? null, reason: i.reason, message: i.message })),
    issuesOmitted: report.issuesOmitted,
    languagePairs: report.languagePairs,
    warnings: report.warnings,
    lengths: { unit: 'characters', ...characterLengths(rows) },
  };
}

function lengthText(rows: PreferenceRow[]): string {
  const l = characterLengths(rows);
  const s = (x: LengthStats) => `${x.min}–${x.max}, mean ${x.mean.toFixed(1)}`;
  return `  characters (${rows.length} rows):\n    prompt:   ${s(l.prompt)}\n    chosen:   ${s(l.chosen)}\n    rejected: ${s(l.rejected)}`;
}

export const validateCommand = command('validate', async (argv) => {
  const a = parseArgs(argv, SPEC, 'validate');
  if (helpOr(a, 'validate', SYNOPSIS, SPEC)) return 0;
  const path = required<string>(a, 'data', 'validate');
  const read = await readData(path);
  if (a.json) console.log(JSON.stringify(reportJson(read.report, read.rows)));
  else console.log(`${formatReport(read.report)}\n${lengthText(read.rows)}`);
  checkReport(read.report, !!a.strict, 'never');
  return 0;
});
