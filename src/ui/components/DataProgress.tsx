// What reading a dataset is doing, named: reading the file (bytes), then tokenizing its pairs (rows), which on a
// large file is the longer phase. Shown on the Run screen when a run reads the file again (the Data screen words
// the same messages itself).
import { formatBytes, formatCount } from '../lib/format.ts';
import { useStudio } from '../store/context.tsx';
import type { Progress } from '../store/types.ts';
import { ProgressBar } from './ProgressBar.tsx';

/** The engine's progress message in words: a label, and how far when it can be counted. */
export function dataProgressText(p: Progress | null): { label: string; detail?: string } {
  if (!p) return { label: 'Reading the dataset' };
  const label = p.what === 'tokenize' ? 'Tokenizing the pairs' : p.what.startsWith('read ') ? `Reading ${p.what.slice('read '.length)}` : p.what.startsWith('download ') ? `Downloading ${p.what.slice('download '.length)}` : p.what;
  if (!(p.total > 0)) return { label };
  const detail = p.unit === 'rows' ? `${formatCount(p.loaded)} of ${formatCount(p.total)} rows` : `${formatBytes(p.loaded)} of ${formatBytes(p.total)}`;
  return { label, detail };
}

export function DataProgress() {
  const progress = useStudio((s) => s.dataProgress);
  const { label, detail } = dataProgressText(progress);
  return <ProgressBar label={label} value={progress?.loaded} max={progress?.total} detail={detail} />;
}
