// The end of a run in one card: translations scored with and without the adapter, the held-out eval loss and
// reward accuracy, a few outputs side by side, and what to do next (download the adapter, compare).
import type { EvalSample } from '../../../engine/types.ts';
import { formatCount, formatNumber } from '../../lib/format.ts';
import { evalSplitNote, formatScore, type RunResults } from '../../lib/results.ts';
import { RunNote } from '../../components/RunNote.tsx';
import { useStudio } from '../../store/context.tsx';

/** The last line of an ALMA prompt is "English:"; the sentence to translate is the line before it. */
function sourceOf(prompt: string): string {
  const lines = prompt.trim().split('\n').filter((l) => l.trim());
  const src = lines.length >= 2 && /:\s*$/.test(lines.at(-1)!) ? lines.at(-2)! : lines.at(-1) ?? '';
  return src.replace(/^[^:]{1,20}:\s*/, '');
}

/** The end-of-run translations side by side (the results card opens it; the Runs list leaves it closed). */
export function Samples({ samples, open = true }: { samples: EvalSample[]; open?: boolean }) {
  return (
    <details className="samples" open={open}>
      <summary>Sample translations ({samples.length})</summary>
      <div className="table-wrap">
        <table className="table compact wrap">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Reference (chosen)</th>
              <th scope="col">Base model</th>
              <th scope="col">With adapter</th>
            </tr>
          </thead>
          <tbody>
            {samples.map((s, i) => (
              <tr key={i}>
                <td>{sourceOf(s.prompt)}</td>
                <td>{s.reference}</td>
                <td>{s.base}</td>
                <td>{s.adapter}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function ResultsCard({ runId, name, results, samples }: { runId: string; name: string; results: RunResults; samples: EvalSample[] | null }) {
  const heldOut = useStudio((s) => s.dataInfo?.evalPairs);
  const busy = useStudio((s) => s.busyRunId !== null);
  const downloadAdapter = useStudio((s) => s.downloadAdapter);
  const setCompare = useStudio((s) => s.setCompare);
  const go = useStudio((s) => s.go);
  const r = results;
  const split = evalSplitNote(r, heldOut);
  return (
    <section className="card results" aria-labelledby="results-h">
      <h2 id="results-h">Results of {name}</h2>
      {r.scores.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="table compact" aria-label="Translation scores, base model and adapter">
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">Base model</th>
                  <th scope="col">With adapter</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {r.scores.map((s) => (
                  <tr key={s.id}>
                    <th scope="row">{s.label}</th>
                    <td data-testid={`${s.id}-base`}>{formatScore(s.base)}</td>
                    <td data-testid={`${s.id}-adapter`}>{formatScore(s.adapter)}</td>
                    <td className={s.adapter >= s.base ? 'better' : 'worse'}>
                      {s.adapter >= s.base ? '+' : '−'}
                      {formatScore(Math.abs(s.adapter - s.base))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small">
            Greedy outputs for {r.examples !== undefined ? formatCount(r.examples) : 'a few'} held-out prompts, scored against their chosen answers as sacreBLEU scores them.
          </p>
        </>
      )}
      <dl className="stats">
        <div>
          <dt>Eval loss</dt>
          <dd data-testid="eval-loss">{r.evalLoss !== undefined ? formatNumber(r.evalLoss, 4) : '—'}</dd>
        </div>
        <div>
          <dt>Eval reward accuracy</dt>
          <dd data-testid="eval-accuracy">{r.evalAccuracy !== undefined ? `${Math.round(r.evalAccuracy * 100)}%` : '—'}</dd>
        </div>
      </dl>
      {split && (
        <p className="muted small" data-testid="eval-split">
          {split}
        </p>
      )}
      {samples && samples.length > 0 && <Samples samples={samples} />}
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void downloadAdapter(runId, 'f32')}>
          Download adapter
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setCompare({ compareRunId: runId });
            go('compare');
          }}
        >
          Compare
        </button>
      </div>
      <RunNote runId={runId} />
    </section>
  );
}
