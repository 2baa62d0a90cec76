// The latest message about one stored run (download saved, export failed…), where its buttons are.
import { useStudio } from '../store/context.tsx';

export function RunNote({ runId }: { runId: string }) {
  const note = useStudio((s) => s.runNotes[runId]);
  if (!note) return null;
  return (
    <p className="small muted" role="status">
      {note}
    </p>
  );
}
