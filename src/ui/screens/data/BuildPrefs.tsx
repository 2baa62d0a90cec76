// "Build from parallel data": preference triplets made from source/reference pairs with the loaded model, as
// ALMA-R's were (src/prefs): a preview of the first sources with their scored candidates, then the whole file
// with progress, ETA and pause/resume (progress kept in IndexedDB), and the result handed to training.
import { useState } from 'react';
import { DropZone } from '../../components/DropZone.tsx';
import { NumberInput, Select, TextInput } from '../../components/fields.tsx';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { downloadBytes } from '../../lib/download.ts';
import { DATASET_EXTENSIONS } from '../../lib/drop.ts';
import { formatHfDatasetSpec } from '../../../io/hub-datasets.ts';
import { HubDatasetInput } from '../../components/HubDatasetInput.tsx';
import { formatBytes, formatDuration } from '../../lib/format.ts';
import { useStudio } from '../../store/context.tsx';
import { sourceStem, type PrefsForm } from '../../store/prefs.ts';
import type { PrefRecord } from '../../../prefs/index.ts';

/** Number fields edited as text, checked on use: [key, label, integer, min, max]. */
const NUMBERS: [keyof PrefsForm, string, boolean, number, number][] = [
  ['n', 'Candidates per source', true, 0, 64],
  ['temperature', 'Temperature', false, 0.01, 10],
  ['topP', 'Top-p', false, 0.01, 1],
  ['seed', 'Seed', true, 0, 2 ** 31],
  ['maxNewTokens', 'Max new tokens', true, 1, 1024],
  ['batchSize', 'Sources per batch', true, 1, 64],
  ['margin', 'Margin', false, 0, 100],
];

function numberError(raw: string, int: boolean, min: number, max: number): string | undefined {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min || v > max) return `${int ? 'A whole number' : 'A number'} from ${min} to ${max}`;
  return undefined;
}

export function BuildPrefs() {
  const form = useStudio((s) => s.prefsForm);
  const setForm = useStudio((s) => s.setPrefsForm);
  const file = useStudio((s) => s.prefsFile);
  const setFile = useStudio((s) => s.setPrefsFile);
  const hub = useStudio((s) => s.prefsHub);
  const setHub = useStudio((s) => s.setPrefsHub);
  const readProgress = useStudio((s) => s.prefsReadProgress);
  const read = useStudio((s) => s.readPrefsFile);
  const report = useStudio((s) => s.prefsReport);
  const status = useStudio((s) => s.prefsStatus);
  const error = useStudio((s) => s.prefsError);
  const preview = useStudio((s) => s.prefsPreview);
  const progress = useStudio((s) => s.prefsProgress);
  const previewPrefs = useStudio((s) => s.previewPrefs);
  const build = useStudio((s) => s.buildPrefs);
  const pause = useStudio((s) => s.pausePrefs);
  const use = useStudio((s) => s.usePrefs);
  const jsonl = useStudio((s) => s.prefsJsonl);
  const modelReady = useStudio((s) => s.modelStatus === 'ready');
  const runs = useStudio((s) => s.runs);
  const [raw, setRaw] = useState<Record<string, string>>(() => Object.fromEntries(NUMBERS.map(([k]) => [k, String(form[k])])));
  const errors = Object.fromEntries(NUMBERS.map(([k, , int, min, max]) => [k, numberError(raw[k], int, min, max)]));
  const valid = Object.values(errors).every((e) => !e);
  const busy = status === 'reading' || status === 'previewing' || status === 'building';
  const canRun = modelReady && !!report && valid && !busy;
  const apply = () => setForm(Object.fromEntries(NUMBERS.map(([k]) => [k, Number(raw[k])])) as Partial<PrefsForm>);
  const stats = progress?.stats;
  const perSec = stats && stats.elapsedMs > 0 ? (1000 * stats.modelCandidates) / stats.elapsedMs : 0;

  return (
    <section className="card" aria-labelledby="prefs-h">
      <h2 id="prefs-h">Build from parallel data</h2>
      <p className="muted small">
        No triplets yet? From source sentences and their reference translations, the loaded model writes several candidates per source; each candidate, the
        reference and any other systems' outputs in the file are scored against the reference (sentence chrF++, chrF or BLEU, as sacreBLEU); the best becomes
        the chosen and the worst the rejected translation, as in ALMA-R.
      </p>
      <p className="muted small" data-testid="prefs-reference-rule">
        The reference: ALMA-R ranked it with the other candidates (its scores did not use the reference). Here every score is against the reference, so the
        reference scores 100 and is chosen whenever it takes part; leave it out to choose the best system or model output instead. Ties go to the earlier
        candidate (reference, then the file's systems, then the model's).
      </p>
      <DropZone label="Parallel data" accept={DATASET_EXTENSIONS.join(',')} buttonText="Choose parallel data" disabled={busy} onFiles={(f) => void setFile(f[0])}>
        <p>
          Drop a <strong>JSONL, JSON, CSV, TSV or Parquet</strong> file with source, reference and language-pair columns (e.g. <code>src</code>, <code>ref</code>,{' '}
          <code>lp</code>).
        </p>
        {file && <p className="muted small">{file.name ?? 'parallel data'}</p>}
      </DropZone>
      <HubDatasetInput
        legend="Or parallel data from the Hugging Face Hub"
        hint="a dataset with source, reference and language-pair columns (e.g. an ALMA-R-Preference config); the access token is the one above"
        disabled={busy}
        tokenField={false}
        onLoad={(spec) => void setHub(spec)}
      />
      {hub && (
        <p className="muted small" data-testid="prefs-hub">
          {formatHfDatasetSpec(hub)}
        </p>
      )}
      {status === 'reading' && hub && (
        <ProgressBar
          label={readProgress?.what.startsWith('read ') ? 'Reading the parallel data' : 'Downloading the parallel data'}
          value={readProgress?.loaded}
          max={readProgress?.total}
          detail={readProgress && readProgress.total > 0 ? `${formatBytes(readProgress.loaded)} of ${formatBytes(readProgress.total)}` : undefined}
        />
      )}
      {report && (
        <dl className="facts" data-testid="prefs-facts">
          <dt>Sources</dt>
          <dd>{report.usable}</dd>
          <dt>Columns</dt>
          <dd>
            {report.columns.source} → {report.columns.reference} ({report.columns.langs})
          </dd>
          <dt>Other systems</dt>
          <dd>{report.systems.length ? report.systems.join(', ') : 'none'}</dd>
          {report.otherPairs > 0 && (
            <>
              <dt>Other directions</dt>
              <dd>{report.otherPairs} rows skipped</dd>
            </>
          )}
          {report.issueCount > 0 && (
            <>
              <dt>Unusable rows</dt>
              <dd>
                {report.issueCount}
                {report.issues[0] && ` (line ${report.issues[0].line ?? report.issues[0].row + 1}: ${report.issues[0].message})`}
              </dd>
            </>
          )}
        </dl>
      )}
      <fieldset>
        <legend>Reading</legend>
        <div className="grid-3">
          <TextInput label="Direction" value={form.pair} placeholder="every pair in the file" hint="e.g. de-en; needed when the file has no pair column" onChange={(v) => setForm({ pair: v })} />
          <TextInput label="System columns" value={form.systems} hint="all, none (empty) or names, comma-separated" onChange={(v) => setForm({ systems: v })} />
          <div className="field align-end">
            <button type="button" className="secondary" disabled={!(file || hub) || busy} onClick={() => void read()}>
              Read again
            </button>
          </div>
        </div>
      </fieldset>
      <fieldset>
        <legend>Candidates and selection</legend>
        <div className="grid-3">
          {NUMBERS.map(([k, label]) => (
            <NumberInput key={k} label={label} value={raw[k]} error={errors[k]} onChange={(v) => setRaw((r) => ({ ...r, [k]: v }))} disabled={busy} />
          ))}
          <Select label="Decoding" value={form.strategy} options={[{ value: 'sample', label: 'Sampling' }, { value: 'beam', label: 'Beam search, top N' }]} onChange={(v) => setForm({ strategy: v })} disabled={busy} />
          <Select label="Metric" value={form.metric} options={[{ value: 'chrf++', label: 'chrF++' }, { value: 'chrf', label: 'chrF' }, { value: 'bleu', label: 'BLEU' }]} onChange={(v) => setForm({ metric: v })} disabled={busy} />
          <Select label="Rejected" value={form.rule} options={[{ value: 'worst', label: 'The worst (ALMA-R)' }, { value: 'random-lower', label: 'A random lower one' }]} onChange={(v) => setForm({ rule: v })} disabled={busy} />
          <Select
            label="Adapter"
            value={form.adapterRunId ?? ''}
            options={[{ value: '', label: 'Base model' }, ...runs.filter((r) => r.step > 0).map((r) => ({ value: r.id, label: `${r.name} (step ${r.step})` }))]}
            onChange={(v) => setForm({ adapterRunId: v || null })}
            disabled={busy}
          />
          <label className="field checkbox-field">
            <input type="checkbox" checked={form.includeReference} disabled={busy} onChange={(e) => setForm({ includeReference: e.target.checked })} /> The reference takes part
          </label>
        </div>
      </fieldset>
      {!modelReady && <p className="muted small">Load a model first: it writes the candidates.</p>}
      <div className="actions">
        <button type="button" className="secondary" disabled={!canRun} onClick={() => { apply(); void previewPrefs(); }}>
          Preview 3 sources
        </button>
        {status === 'building' ? (
          <button type="button" onClick={() => pause()}>
            Pause
          </button>
        ) : (
          <button type="button" disabled={!canRun} onClick={() => { apply(); void build(); }}>
            {status === 'paused' ? 'Resume' : 'Build all'}
          </button>
        )}
        {(status === 'paused' || status === 'done' || (status === 'error' && /start over/.test(error ?? ''))) && (
          <button type="button" className="secondary" disabled={!canRun} onClick={() => { apply(); void build(true); }}>
            Start over
          </button>
        )}
      </div>
      {error && (
        <p className="note error" role="alert">
          {error}
        </p>
      )}
      {status === 'previewing' && <ProgressBar label="Writing candidates for the preview" />}
      {progress && (
        <ProgressBar
          label={status === 'done' ? 'Built' : status === 'paused' ? 'Paused (kept in this browser)' : 'Building'}
          value={progress.done}
          max={progress.total}
          detail={`${progress.done} of ${progress.total} sources · ${progress.stats.pairs} pairs · ${perSec.toFixed(1)} candidates/s${progress.etaMs !== null && progress.done < progress.total && status === 'building' ? ` · about ${formatDuration(progress.etaMs)} left` : ''}`}
        />
      )}
      {status === 'done' && stats && (
        <>
          <p data-testid="prefs-summary">
            {stats.pairs} pairs from {stats.rows} sources; {stats.droppedMargin} dropped below the margin, {stats.droppedTooFew} with fewer than two candidates; the
            reference was chosen in {stats.referenceChosen}.
          </p>
          <div className="actions">
            <button type="button" disabled={stats.pairs === 0} onClick={() => void use()}>
              Use as the training dataset
            </button>
            <button type="button" className="secondary" disabled={stats.pairs === 0} onClick={() => downloadBytes(`${sourceStem(hub ? formatHfDatasetSpec(hub) : file?.name)}-prefs.jsonl`, jsonl())}>
              Download JSONL
            </button>
          </div>
        </>
      )}
      {preview && preview.map((r) => <PreviewSource key={r.index} rec={r} />)}
    </section>
  );
}

function PreviewSource({ rec }: { rec: PrefRecord }) {
  const sel = rec.selection;
  const mark = (i: number) => (sel.kind !== 'pair' ? '' : i === sel.chosen ? 'chosen' : i === sel.rejected ? 'rejected' : '');
  return (
    <article className="preview-row" aria-label={`Source ${rec.index + 1}`} data-testid="prefs-preview">
      <div className="preview-line muted small">
        {rec.lp} · source {rec.index + 1}
        {sel.kind === 'dropped' && ` · dropped (${sel.reason === 'margin' ? 'below the margin' : 'fewer than two candidates'})`}
      </div>
      <pre>{rec.source}</pre>
      <table className="small">
        <thead>
          <tr>
            <th>Candidate</th>
            <th>From</th>
            <th>Score</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rec.candidates.map((c, i) => (
            <tr key={i} className={mark(i)}>
              <td>{c.text}</td>
              <td className="muted">{c.from.join(', ')}</td>
              <td className="nowrap">{c.score.toFixed(2)}</td>
              <td>{mark(i)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
