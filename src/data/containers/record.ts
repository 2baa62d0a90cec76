// What every container parser yields: a decoded record, a record-level problem, or a blank line.
import type { RowIssue, RowOrigin } from '../types.ts';

export type RawItem =
  | { kind: 'record'; value: unknown; origin: RowOrigin; badUtf8?: boolean }
  | { kind: 'issue'; issue: RowIssue }
  | { kind: 'blank' };

/** File-level notes a container can add while it parses (e.g. "file ends inside a quoted field"). */
export interface ContainerNotes {
  warnings: string[];
}
