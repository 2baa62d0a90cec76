// Runs: everything the engine has stored, with resume, delete and adapter download.
import { useEffect, useState } from 'react';
import type { RunRecord } from '../../engine/types.ts';
import { Select } from '../components/fields.tsx';
import { RunNote } from '../components/RunNote.tsx';
import { RunDownloads } from './runs/RunDownloads.tsx';
import { isHubId } from '../lib/peft-zip.ts';
import { formatCount, formatNumber } from '../lib/format.ts';
import { useStudio } from '../store/context.tsx';
import { isActive, listedStatus, resumeBlockers } from '../store/selectors.ts';
import { resultsOf, scoreChange, type GenScore } from '../lib/results.ts';
import { PHASE_WORDS } from '../store/training.ts';
import { Samples } from './run/ResultsCard.tsx';

const when = (t: number) => (t ? new Date(t).toLocaleString() : '—');

function RunRow({ r, dtype }: { r: RunRecord; dtype: 'f32' | 'f16' }) {
  const busy = useStudio((s) => s.busyRunId === r.id);
  const anyBusy = useStudio((s) => s.busyRunId !== null);
  const active = useStudio((s) => isActive(s.run.phase) && s.run.runId === r.id);
  const anyActive = useStudio((s) => isActive(s.run.phase));
  const viewRun = useStudio((s) => s.viewRun);
  const resumeRun = useStudio((s) => s.resumeRun);
  const deleteRun = useStudio((s) => s.deleteRun);
  const downloadAdapter = useStudio((s) => s.downloadAdapter);
  const exportRecipe = useStudio((s) => s.exportRecipe);
  const peftBase = useStudio((s) => s.peftBase[r.id]);
  const setPeftBase = useStudio((s) => s.setPeftBase);
  const [confirming, setConfirming] = useState(false);
  const status = useStudio((s) => listedStatus(s, r));
  const m = r.lastMetrics;
  const results = resultsOf(r.evalScores);
  const score = (id: GenScore['id']) => results?.scores.find((x) => x.id === id);
  const resumable = !active && status !== 'finished' && r.step < r.totalSteps;
  // What is missing before it can resume (after a reload: the model and the dataset), as one line; not said of a
  // run the user stopped (it can still resume, but nothing is waiting for it).
  const missing = useStudio((s) => (resumable && !anyActive && status !== 'stopped' ? resumeBlockers(s, r).join('\n') : ''));
  const go = useStudio((s) => s.go);
  const canResume = !anyActive && resumable && !missing;
  const hintId = `resume-hint-${r.id}`;
  return (
    <>
      <tr className={missing ? 'has-hint' : undefined}>
        <th scope="row">
          <span className="run-name">{r.name}</span>
          <span className="run-sub muted small">
            {r.modelName} · {r.datasetName}
          </span>
        </th>
        <td>
          <span className={`badge phase-${status}`}>{PHASE_WORDS[status]}</span>
          {r.step > 0 && !active && <span className="run-sub muted small">checkpoint at step {formatCount(r.step)}</span>}
        </td>
        <td className="nowrap">
          {formatCount(r.step)} / {formatCount(r.totalSteps)}
        </td>
        <td>{m ? formatNumber(m.loss, 4) : '—'}</td>
        <td>{m ? formatNumber(m['rewards/margins'], 3) : '—'}</td>
        <td>{m ? `${Math.round(m['rewards/accuracies'] * 100)}%` : '—'}</td>
        <td className="nowrap" data-testid="runs-eval-loss">{results?.evalLoss !== undefined ? formatNumber(results.evalLoss, 4) : '—'}</td>
        {(['chrf2', 'chrfpp', 'bleu'] as const).map((id) => {
          const sc = score(id);
          return (
            <td key={id} className="nowrap" data-testid={`runs-${id}`} title={sc ? 'base model → with adapter' : undefined}>
              {sc ? scoreChange(sc) : '—'}
            </td>
          );
        })}
        <td className="small">{when(r.updatedAt)}</td>
        <td>
          <div className="row-actions run-actions">
            <button type="button" className="link" onClick={() => void viewRun(r.id)} aria-label={`View charts of ${r.name}`}>
              Charts
            </button>
            <button type="button" className="secondary" disabled={!canResume} onClick={() => void resumeRun(r.id)} aria-label={`Resume ${r.name}`} aria-describedby={missing ? hintId : undefined}>
              Resume
            </button>
            <button type="button" disabled={anyBusy || r.step === 0} onClick={() => void downloadAdapter(r.id, dtype)} aria-label={`Download adapter of ${r.name}`}>
              {busy ? 'Working…' : 'Download adapter'}
            </button>
            {!isHubId(r.modelName) && (
              <input
                type="text"
                className="base-input"
                aria-label={`Base model of ${r.name} for adapter_config.json`}
                title="base_model_name_or_path in the adapter's config: the base model's Hub id or local folder"
                placeholder="base model Hub id or folder"
                value={peftBase ?? r.modelName}
                onChange={(e) => setPeftBase(r.id, e.target.value)}
              />
            )}
            <RunDownloads r={r} dtype={dtype} />
            <button type="button" className="secondary" disabled={anyBusy} onClick={() => void exportRecipe(r.id)} aria-label={`Export ${r.name} as a TRL recipe`} title="The same run for Hugging Face TRL: dataset, CPOConfig, LoraConfig, script and accelerate command">
              TRL recipe
            </button>
            {confirming ? (
              <>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    setConfirming(false);
                    void deleteRun(r.id);
                  }}
                  aria-label={`Confirm deleting ${r.name}`}
                >
                  Confirm delete
                </button>
                <button type="button" className="link" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </>
            ) : (
              <button type="button" className="link danger-text" disabled={active || anyBusy} onClick={() => setConfirming(true)} aria-label={`Delete ${r.name}`}>
                Delete
              </button>
            )}
          </div>
          <RunNote runId={r.id} />
        </td>
      </tr>
      {missing && (
        <tr className="hint-row">
          <td colSpan={12}>
            <div className="note warn small resume-hint" id={hintId}>
              <p>
                {/Model screen|Data screen/.test(missing) ? (
                  <>
                    <strong>To resume, load the model and the dataset again.</strong> The checkpoint at step {formatCount(r.step)} is kept in this browser; the model and the dataset are not kept across a reload.
                  </>
                ) : (
                  <strong>This run cannot resume yet.</strong>
                )}
              </p>
              <ul>
                {missing.split('\n').map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
              <div className="row-actions">
                {/Model screen/.test(missing) && (
                  <button type="button" className="secondary" onClick={() => go('model')}>
                    Go to Model
                  </button>
                )}
                {/Data screen/.test(missing) && (
                  <button type="button" className="secondary" onClick={() => go('data')}>
                    Go to Data
                  </button>
                )}
              </div>
            </div>
          </td>
        </tr>
      )}
      {r.evalSamples && r.evalSamples.length > 0 && (
        <tr className="samples-row" data-testid={`runs-samples-${r.name}`}>
          <td colSpan={12}>
            <Samples samples={r.evalSamples} open={false} />
          </td>
        </tr>
      )}
    </>
  );
}

export function RunsScreen() {
  const runs = useStudio((s) => s.runs);
  const status = useStudio((s) => s.runsStatus);
  const error = useStudio((s) => s.runsError);
  const refresh = useStudio((s) => s.refreshRuns);
  const [dtype, setDtype] = useState<'f32' | 'f16'>('f32');
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return (
    <>
      <header className="screen-head">
        <h1>Runs</h1>
        <p className="lede">Runs and their checkpoints are kept in this browser's storage and survive a reload; the model and the dataset are not kept, so after a reload load them again to resume a run. Download an adapter to use it with PEFT: adapter_model.safetensors and adapter_config.json.</p>
      </header>
      <section className="card" aria-labelledby="runs-h">
        <div className="card-head">
          <h2 id="runs-h">Stored runs</h2>
          <div className="inline">
            <Select
              label="Adapter precision"
              value={dtype}
              options={[
                { value: 'f32', label: 'f32' },
                { value: 'f16', label: 'f16 (half the size)' },
              ]}
              onChange={setDtype}
            />
            <button type="button" className="secondary" onClick={() => void refresh()} disabled={status === 'loading'}>
              Refresh
            </button>
          </div>
        </div>
        {error && (
          <p className="note error" role="alert">
            Could not list runs: {error}
          </p>
        )}
        {runs.length === 0 ? (
          <p className="muted">{status === 'loading' ? 'Loading…' : 'No runs yet. Start one on the Run screen.'}</p>
        ) : (
          <div className="table-wrap runs-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Step</th>
                  <th scope="col">Loss</th>
                  <th scope="col">Margin</th>
                  <th scope="col">Accuracy</th>
                  <th scope="col">Eval loss</th>
                  <th scope="col" title="base model → with adapter">chrF2</th>
                  <th scope="col" title="base model → with adapter">chrF++</th>
                  <th scope="col" title="base model → with adapter">BLEU</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <RunRow key={r.id} r={r} dtype={dtype} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
