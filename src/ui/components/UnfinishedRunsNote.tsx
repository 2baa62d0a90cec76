// After a reload the page has no run of its own, but stored ones may be half-done: interrupted mid-run (the
// page closed or reloaded while it trained) or paused. Said on the Start and Run screens, with the way back.
import { useStudio } from '../store/context.tsx';
import { listedStatus, unfinishedRuns } from '../store/selectors.ts';

export function UnfinishedRunsNote() {
  const idle = useStudio((s) => s.run.phase === 'idle');
  // Primitives only: a selector that builds an object would re-render on every store change.
  const n = useStudio((s) => unfinishedRuns(s).length);
  const interrupted = useStudio((s) =>
    unfinishedRuns(s)
      .filter((r) => listedStatus(s, r) === 'interrupted')
      .map((r) => `${r.name} (step ${r.step} of ${r.totalSteps})`)
      .join(', '),
  );
  const paused = useStudio((s) => unfinishedRuns(s).filter((r) => listedStatus(s, r) === 'paused').length);
  const go = useStudio((s) => s.go);
  if (!idle || !n) return null;
  return (
    <div className="note warn" role="status" data-testid="unfinished-runs">
      <p>
        {interrupted && <>A run was interrupted: {interrupted}. The page closed or reloaded while it trained; it continues from its last checkpoint. </>}
        {paused > 0 && <>{paused === 1 ? 'A paused run is' : `${paused} paused runs are`} stored in this browser. </>}
        To resume, load the same model and dataset, then resume it on Runs.
      </p>
      <button type="button" className="secondary" onClick={() => go('runs')}>
        Resume from Runs
      </button>
    </div>
  );
}
