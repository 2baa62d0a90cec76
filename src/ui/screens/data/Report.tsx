// The validation report: counts, what was set aside and why (with lines), language pairs, lengths.
import { useState } from 'react';
import type { DatasetInfo } from '../../../engine/types.ts';
import type { IssueReason, ValidationReport } from '../../../data/types.ts';
import { formatCount } from '../../lib/format.ts';
import { useStudio } from '../../store/context.tsx';
import { Histogram } from './Histogram.tsx';
import { REASON_WORDS } from './words.ts';

export function Report({ info }: { info: DatasetInfo }) {
  // The limit the file was cut to (the run's, when it was read).
  const maxLength = useStudio((s) => s.dataLengths?.maxLength ?? s.config.maxLength);
  const r = (info.report ?? {}) as Partial<ValidationReport>;
  const counts = Object.entries(r.counts ?? {}).filter(([, n]) => (n ?? 0) > 0) as [IssueReason, number][];
  const pairs = Object.entries(r.languagePairs ?? {});
  const [showText, setShowText] = useState(false);
  return (
    <section className="card" aria-labelledby="report-h">
      <h2 id="report-h">Validation report</h2>
      <dl className="stats">
        <div>
          <dt>Rows read</dt>
          <dd>{formatCount(info.rowsRead)}</dd>
        </div>
        <div>
          <dt>Usable</dt>
          <dd>{formatCount(info.rowsUsable)}</dd>
        </div>
        <div>
          <dt>Train pairs</dt>
          <dd>{formatCount(info.trainPairs)}</dd>
        </div>
        <div>
          <dt>Eval pairs</dt>
          <dd>{formatCount(info.evalPairs)}</dd>
        </div>
      </dl>
      {r.warnings?.length ? (
        <ul className="note warn">
          {r.warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      ) : null}
      <div className="grid-2">
        <div>
          <h3>Set aside</h3>
          {counts.length === 0 ? (
            <p className="muted">Nothing: every row was usable.</p>
          ) : (
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Reason</th>
                  <th scope="col">Rows</th>
                  <th scope="col">Lines</th>
                </tr>
              </thead>
              <tbody>
                {counts.map(([reason, n]) => {
                  const lines = (r.issues ?? []).filter((i) => i.reason === reason).map((i) => i.line ?? i.row);
                  return (
                    <tr key={reason}>
                      <td>{REASON_WORDS[reason] ?? reason}</td>
                      <td>{formatCount(n)}</td>
                      <td className="small">
                        {lines.slice(0, 8).join(', ')}
                        {lines.length > 8 || n > lines.length ? '…' : ''}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {(r.issues?.length ?? 0) > 0 && (
            <details>
              <summary>All listed issues ({r.issues!.length}{r.issuesOmitted ? `, ${r.issuesOmitted} more not listed` : ''})</summary>
              <ul className="issues small">
                {r.issues!.map((i, k) => (
                  <li key={k}>
                    line {i.line ?? i.row}
                    {i.field ? ` · ${i.field}` : ''}: {i.message}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
        <div>
          {pairs.length > 0 && (
            <>
              <h3>Language pairs</h3>
              <ul className="chips">
                {pairs.map(([p, n]) => (
                  <li key={p}>
                    {p} <span className="muted">{formatCount(n)}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
          {r.tokenization?.histogram && <Histogram edges={r.tokenization.histogram.edges} counts={r.tokenization.histogram.counts} maxLength={maxLength} />}
          {r.tokenization && r.tokenization.truncatedCompletions + r.tokenization.truncatedPrompts > 0 && (
            <p className="note warn small" data-testid="cut-hint">
              {formatCount(r.tokenization.truncatedCompletions + r.tokenization.truncatedPrompts)} pairs are longer than max length {maxLength} tokens and were cut. To train on them whole, raise “Max length (tokens)” on the Training screen (it costs memory: see the estimate there).
            </p>
          )}
          {r.tokenization && (
            <p className="muted small">
              Prompts cut: {r.tokenization.truncatedPrompts} · completions cut: {r.tokenization.truncatedCompletions} · dropped for long prompts: {r.tokenization.droppedLongPrompts}
            </p>
          )}
        </div>
      </div>
      {info.reportText && (
        <div className="actions">
          <button type="button" className="link" aria-expanded={showText} onClick={() => setShowText(!showText)}>
            {showText ? 'Hide' : 'Show'} the full report as text
          </button>
        </div>
      )}
      {showText && <pre className="report-text">{info.reportText}</pre>}
    </section>
  );
}
