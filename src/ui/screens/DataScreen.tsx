// Data: the preference file, how it was read, what will be trained, and what was set aside and why.
import { useState } from 'react';
import type { DatasetInfo, DatasetPreviewRow } from '../../engine/types.ts';
import type { IssueReason, ValidationReport } from '../../data/types.ts';
import { DropZone } from '../components/DropZone.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { NumberInput, Select, TextInput } from '../components/fields.tsx';
import { DATASET_EXTENSIONS } from '../lib/drop.ts';
import { formatBytes, formatCount } from '../lib/format.ts';
import { useStudio } from '../store/context.tsx';

const FORMAT_NAMES: Record<string, string> = {
  trl: 'TRL preference (prompt, chosen, rejected)',
  translation: 'Translation pairs (source, chosen, rejected)',
  'alma-r': 'ALMA-R triplets (translation + scores)',
  mapping: 'Custom column mapping',
};

const REASON_WORDS: Record<IssueReason, string> = {
  'malformed-json': 'Malformed JSON',
  'malformed-csv': 'Malformed CSV',
  'not-an-object': 'Not an object',
  'invalid-utf8': 'Invalid UTF-8',
  'missing-field': 'Missing field',
  'non-string-field': 'Field is not text',
  'empty-text': 'Empty text',
  'identical-pair': 'Chosen equals rejected',
  'duplicate-pair': 'Duplicate pair',
  'unknown-language': 'Unknown language',
  'bad-value': 'Bad value',
  'prompt-too-long': 'Prompt too long',
  tokenization: 'Tokenization failed',
};

function PreviewRow({ row, maxPrompt, maxLength }: { row: DatasetPreviewRow; maxPrompt: number; maxLength: number }) {
  const promptCut = row.promptTokens > maxPrompt;
  const room = maxLength - Math.min(row.promptTokens, maxPrompt);
  return (
    <article className="preview-row" aria-label={`Row at line ${row.line}`}>
      <div className="preview-line muted small">line {row.line}</div>
      <div className="preview-part prompt">
        <div className="part-head">
          <span>Prompt</span>
          <span className="tok" title="The prompt is conditioned on, not trained on">
            {row.promptTokens} tokens · masked{promptCut ? ` · cut to ${maxPrompt}` : ''}
          </span>
        </div>
        <pre>{row.prompt}</pre>
      </div>
      <div className="preview-pair">
        <div className="preview-part chosen">
          <div className="part-head">
            <span>Chosen</span>
            <span className="tok">
              {row.chosenTokens} tokens{row.chosenTokens > room ? ` · cut to ${Math.max(0, room)}` : ''}
            </span>
          </div>
          <pre>{row.chosen}</pre>
        </div>
        <div className="preview-part rejected">
          <div className="part-head">
            <span>Rejected</span>
            <span className="tok">
              {row.rejectedTokens} tokens{row.rejectedTokens > room ? ` · cut to ${Math.max(0, room)}` : ''}
            </span>
          </div>
          <pre>{row.rejected}</pre>
        </div>
      </div>
    </article>
  );
}

function Histogram({ edges: allEdges, counts: allCounts }: { edges: number[]; counts: number[] }) {
  // Empty bins past the longest pair say nothing: keep one of them, to show where the data ends.
  let last = allCounts.length - 1;
  while (last > 0 && !allCounts[last] && !allCounts[last - 1]) last--;
  const counts = allCounts.slice(0, last + 1);
  const edges = allEdges.slice(0, Math.min(allEdges.length, last + 1));
  const max = Math.max(1, ...counts);
  return (
    <figure className="histogram">
      <figcaption>Pair length (prompt + longer completion, tokens)</figcaption>
      <ol aria-label="Length histogram">
        {counts.map((c, i) => {
          const label = i < edges.length ? `≤ ${edges[i]}` : `> ${edges[edges.length - 1]}`;
          return (
            <li key={i} aria-label={`${label}: ${c} pairs`}>
              <span className="hbar" style={{ height: `${(100 * c) / max}%` }} />
              <span className="hlabel">{label}</span>
              <span className="hcount">{c}</span>
            </li>
          );
        })}
      </ol>
    </figure>
  );
}

function Report({ info }: { info: DatasetInfo }) {
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
          {r.tokenization?.histogram && <Histogram edges={r.tokenization.histogram.edges} counts={r.tokenization.histogram.counts} />}
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

function Mapping() {
  const columns = useStudio((s) => s.columns);
  const settings = useStudio((s) => s.dataSettings);
  const setSettings = useStudio((s) => s.setDataSettings);
  const load = useStudio((s) => s.loadDataset);
  const m = settings.mapping ?? {};
  const kind = m.source !== undefined ? 'source' : 'prompt';
  const set = (patch: Record<string, string>) => {
    const next = { ...m, ...patch };
    for (const k of Object.keys(next)) if (!next[k]) delete next[k];
    setSettings({ mapping: next, format: 'mapping' });
  };
  const opts = [{ value: '', label: '— pick a column —' }, ...columns.map((c) => ({ value: c, label: c }))];
  const ready = !!(m.chosen && m.rejected && (m.prompt || m.source));
  return (
    <section className="card" aria-labelledby="map-h">
      <h2 id="map-h">Column mapping</h2>
      <p>The layout of this file was not recognised. Say which columns hold the prompt (or the source sentence to translate), the chosen and the rejected answer.</p>
      {columns.length === 0 && <p className="muted small">No column names could be read from the file head; type them instead.</p>}
      <div className="grid-3">
        <Select
          label="Prompt column holds"
          value={kind}
          options={[
            { value: 'prompt', label: 'a ready prompt' },
            { value: 'source', label: 'a source sentence (translation prompt)' },
          ]}
          onChange={(v) => {
            const col = m.prompt ?? m.source ?? '';
            const next = { ...m };
            delete next.prompt;
            delete next.source;
            setSettings({ mapping: { ...next, [v]: col }, format: 'mapping' });
          }}
        />
        {(['prompt', 'chosen', 'rejected'] as const).map((k) => {
          const key = k === 'prompt' ? kind : k;
          const label = k === 'prompt' ? (kind === 'source' ? 'Source column' : 'Prompt column') : k === 'chosen' ? 'Chosen column' : 'Rejected column';
          return columns.length ? (
            <Select key={k} label={label} value={m[key] ?? ''} options={opts} onChange={(v) => set({ [key]: v })} />
          ) : (
            <TextInput key={k} label={label} value={m[key] ?? ''} onChange={(v) => set({ [key]: v })} />
          );
        })}
        {kind === 'source' && <TextInput label="Language pair" value={m.langPair ?? ''} placeholder="de-en" onChange={(v) => set({ langPair: v })} hint="Source-target codes for every row." />}
      </div>
      <div className="actions">
        <button type="button" disabled={!ready} onClick={() => void load()}>
          Read with this mapping
        </button>
      </div>
    </section>
  );
}

export function DataScreen() {
  const file = useStudio((s) => s.dataFile);
  const setFile = useStudio((s) => s.setDataFile);
  const status = useStudio((s) => s.dataStatus);
  const progress = useStudio((s) => s.dataProgress);
  const info = useStudio((s) => s.dataInfo);
  const error = useStudio((s) => s.dataError);
  const needsMapping = useStudio((s) => s.needsMapping);
  const settings = useStudio((s) => s.dataSettings);
  const setSettings = useStudio((s) => s.setDataSettings);
  const load = useStudio((s) => s.loadDataset);
  // The limits the file was actually cut to (the run's, when it was read).
  const maxPrompt = useStudio((s) => s.dataLengths?.maxPromptLength ?? s.config.maxPromptLength);
  const maxLength = useStudio((s) => s.dataLengths?.maxLength ?? s.config.maxLength);
  const modelReady = useStudio((s) => s.modelStatus === 'ready');
  const go = useStudio((s) => s.go);
  const [fraction, setFraction] = useState(String(settings.evalFraction * 100));
  const [seed, setSeed] = useState(String(settings.seed));
  const fracNum = Number(fraction);
  const fracErr = fraction.trim() === '' || !(fracNum >= 0 && fracNum <= 50) ? 'Eval share must be between 0 and 50 %' : undefined;
  const seedNum = Number(seed);
  const seedErr = !Number.isInteger(seedNum) || seedNum < 0 ? 'Seed must be a whole number ≥ 0' : undefined;
  const loading = status === 'loading';

  return (
    <>
      <header className="screen-head">
        <h1>Data</h1>
        <p className="lede">A preference dataset: for each prompt (or source sentence), a chosen and a rejected answer.</p>
      </header>
      <section className="card" aria-labelledby="data-h">
        <h2 id="data-h">Dataset file</h2>
        <DropZone label="Dataset" accept={DATASET_EXTENSIONS.join(',')} buttonText="Choose a file" disabled={loading} onFiles={(f) => void setFile(f[0])}>
          <p>
            Drop a <strong>JSONL, JSON, CSV, TSV or Parquet</strong> file here (gzip is fine). TRL columns (prompt, chosen, rejected), translation triplets and the ALMA-R format are detected.
          </p>
          {file && (
            <p className="muted small">
              {file.name ?? 'dataset'} · {formatBytes(file.size)}
            </p>
          )}
        </DropZone>
        {!modelReady && <p className="muted small">Token counts and truncation use the model's tokenizer: they are exact once a model is loaded.</p>}
        {loading && <ProgressBar label={progress?.what || 'Reading the dataset'} value={progress?.loaded} max={progress?.total} detail={progress && progress.total > 0 ? `${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}` : undefined} />}
        {error && (
          <p className={`note ${needsMapping ? 'warn' : 'error'}`} role="alert">
            {error}
            {needsMapping && ' Pick the columns below.'}
          </p>
        )}
        {info && (
          <dl className="facts">
            <dt>Container</dt>
            <dd>{info.container}</dd>
            <dt>Detected format</dt>
            <dd data-testid="data-format">{FORMAT_NAMES[info.format] ?? info.format}</dd>
          </dl>
        )}
        <fieldset className="split">
          <legend>Train / eval split</legend>
          <div className="grid-3">
            <NumberInput label="Eval share (%)" value={fraction} error={fracErr} onChange={setFraction} hint="Held out for eval loss and reward accuracy." />
            <NumberInput label="Split seed" value={seed} error={seedErr} onChange={setSeed} />
            <div className="field align-end">
              <button
                type="button"
                className="secondary"
                disabled={!file || loading || !!fracErr || !!seedErr}
                onClick={() => {
                  setSettings({ evalFraction: fracNum / 100, seed: seedNum });
                  void load();
                }}
              >
                Apply split
              </button>
            </div>
          </div>
        </fieldset>
      </section>
      {needsMapping && <Mapping />}
      {info && info.preview.length > 0 && (
        <section className="card" aria-labelledby="preview-h">
          <h2 id="preview-h">Preview: the first rows as they will be trained</h2>
          <p className="muted small">The prompt is masked (the model is conditioned on it); the loss compares the chosen and rejected completions.</p>
          {info.preview.map((row) => (
            <PreviewRow key={row.line} row={row} maxPrompt={maxPrompt} maxLength={maxLength} />
          ))}
        </section>
      )}
      {info && <Report info={info} />}
      {info && info.trainPairs > 0 && (
        <div className="actions">
          <button type="button" onClick={() => go('training')}>
            Next: training settings
          </button>
        </div>
      )}
    </>
  );
}
