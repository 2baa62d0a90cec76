// Building the validation report as rows stream past, and printing it for the CLI.
import { ISSUE_REASONS, type Container, type RowFormat, type RowIssue, type ValidationReport } from './types.ts';

export const DEFAULT_MAX_LISTED_ISSUES = 10_000;

export function emptyReport(file: string, container: Container, format: RowFormat): ValidationReport {
  return {
    file,
    container,
    format,
    bytesRead: 0,
    rowsRead: 0,
    rowsUsable: 0,
    blankLines: 0,
    skippedDirections: 0,
    counts: {},
    issues: [],
    issuesOmitted: 0,
    languagePairs: {},
    warnings: [],
  };
}

export function addIssue(report: ValidationReport, issue: RowIssue, maxListed = DEFAULT_MAX_LISTED_ISSUES): void {
  report.counts[issue.reason] = (report.counts[issue.reason] ?? 0) + 1;
  if (report.issues.length < maxListed) report.issues.push(issue);
  else report.issuesOmitted++;
}

export function issueTotal(report: ValidationReport): number {
  return Object.values(report.counts).reduce((s, n) => s + (n ?? 0), 0);
}

const REASON_TEXT: Record<string, string> = {
  'malformed-json': 'malformed JSON',
  'malformed-csv': 'malformed CSV/TSV record',
  'not-an-object': 'not an object',
  'invalid-utf8': 'invalid UTF-8',
  'missing-field': 'missing field',
  'non-string-field': 'field of the wrong type',
  'empty-text': 'empty text',
  'identical-pair': 'chosen identical to rejected',
  'duplicate-pair': 'duplicate pair',
  'unknown-language': 'unknown language',
  'bad-value': 'bad value',
  'prompt-too-long': 'prompt too long after tokenization',
  'too-long': 'too long for the model or to tokenize',
  tokenization: 'tokenization problem',
};

/** Plain-text rendering for the CLI; lists at most `maxIssues` issues. */
export function formatReport(report: ValidationReport, maxIssues = 20): string {
  const out: string[] = [];
  const pct = (n: number, d: number) => (d ? ` (${((100 * n) / d).toFixed(1)}%)` : '');
  out.push(`${report.file}: ${report.container}, ${report.format} rows, ${formatBytes(report.bytesRead)} read`);
  out.push(`  records read:   ${report.rowsRead}${report.blankLines ? ` (+${report.blankLines} blank lines)` : ''}`);
  out.push(`  rows usable:    ${report.rowsUsable}`);
  if (report.skippedDirections) out.push(`  directions not made (required_directions / directions option): ${report.skippedDirections}`);
  const total = issueTotal(report);
  if (total) {
    out.push(`  rows not usable: ${total}`);
    for (const reason of ISSUE_REASONS) {
      const n = report.counts[reason];
      if (n) out.push(`    ${REASON_TEXT[reason] ?? reason}: ${n}${pct(n, report.rowsRead)}`);
    }
  }
  const pairs = Object.entries(report.languagePairs).sort((a, b) => b[1] - a[1]);
  if (pairs.length) out.push(`  language pairs: ${pairs.map(([p, n]) => `${p} ${n}`).join(', ')}`);
  const t = report.tokenization;
  if (t) {
    const s = (x: { total: number; min: number; max: number; mean: number }) =>
      `${x.total} total, ${x.min}–${x.max}, mean ${x.mean.toFixed(1)}`;
    out.push(`  tokens (${t.pairs} pairs):`);
    out.push(`    prompt:   ${s(t.prompt)}`);
    out.push(`    chosen:   ${s(t.chosen)}`);
    out.push(`    rejected: ${s(t.rejected)}`);
    if (t.truncatedPrompts || t.truncatedCompletions) {
      out.push(`    truncated: ${t.truncatedPrompts} prompts, ${t.truncatedCompletions} completions`);
    }
    if (t.droppedLongPrompts) out.push(`    dropped (prompt longer than max_prompt_length): ${t.droppedLongPrompts}`);
    if (t.droppedTooLong) out.push(`    set aside (longer than the model's positions, or too long to tokenize): ${t.droppedTooLong}`);
    if (t.overMaxLength) out.push(`    kept longer than max_length (TRL 1.13 never cuts prompts): ${t.overMaxLength}`);
    if (t.boundaryMismatches) out.push(`    prompt/answer boundary differs between chosen and rejected: ${t.boundaryMismatches}`);
    out.push('    length histogram (prompt + longer completion, before truncation):');
    const maxCount = Math.max(1, ...t.histogram.counts);
    const first = t.histogram.counts.findIndex((n) => n > 0);
    const last = t.histogram.counts.length - 1 - [...t.histogram.counts].reverse().findIndex((n) => n > 0);
    t.histogram.counts.forEach((n, i) => {
      if (first < 0 || i < first || i > last) return;
      const lo = i === 0 ? 0 : t.histogram.edges[i - 1] + 1;
      const label = i < t.histogram.edges.length ? `${lo}–${t.histogram.edges[i]}` : `>${t.histogram.edges[i - 1]}`;
      out.push(`      ${label.padStart(11)} ${String(n).padStart(7)} ${'#'.repeat(Math.round((30 * n) / maxCount))}`);
    });
  }
  for (const w of report.warnings) out.push(`  warning: ${w}`);
  if (report.issues.length) {
    out.push('  issues:');
    for (const i of report.issues.slice(0, maxIssues)) {
      const where = i.line !== undefined && i.line !== i.row ? `row ${i.row} (line ${i.line})` : `row ${i.row}`;
      out.push(`    ${where}${i.field ? ` [${i.field}]` : ''}: ${REASON_TEXT[i.reason] ?? i.reason}: ${i.message}`);
    }
    const more = total - Math.min(maxIssues, report.issues.length);
    if (more > 0) out.push(`    … and ${more} more`);
  }
  return out.join('\n');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}
