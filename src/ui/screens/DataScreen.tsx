// Data: the preference file, how it was read, what will be trained, and what was set aside and why. The
// parts live in screens/data/.
import { useState } from 'react';
import { DropZone } from '../components/DropZone.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { NumberInput } from '../components/fields.tsx';
import { DATASET_EXTENSIONS } from '../lib/drop.ts';
import { formatHfDatasetSpec } from '../../io/hub-datasets.ts';
import { HubDatasetInput } from '../components/HubDatasetInput.tsx';
import { formatBytes, formatCount } from '../lib/format.ts';
import { useStudio } from '../store/context.tsx';
import { BuildPrefs } from './data/BuildPrefs.tsx';
import { Mapping } from './data/Mapping.tsx';
import { PreviewRow } from './data/PreviewRow.tsx';
import { Report } from './data/Report.tsx';
import { FORMAT_NAMES } from './data/words.ts';

const DEMO_DATASET = 'demo/wmt22-preference.jsonl';

/** The engine's progress messages ("download hf://…", "read …", "tokenize") in words. */
function progressLabel(what: string | undefined): string {
  if (!what) return 'Reading the dataset';
  if (what.startsWith('download ')) return `Downloading ${what.slice(9)}`;
  if (what.startsWith('read ')) return `Reading ${what.slice(5)}`;
  if (what === 'tokenize') return 'Tokenizing';
  return what;
}

/** Bytes while downloading or reading; rows while tokenizing. */
const progressDetail = (p: { loaded: number; total: number; what: string }) =>
  p.what === 'tokenize' ? `${formatCount(p.loaded)} of ${formatCount(p.total)} rows` : `${formatBytes(p.loaded)} of ${formatBytes(p.total)}`;

export function DataScreen() {
  const file = useStudio((s) => s.dataFile);
  const setFile = useStudio((s) => s.setDataFile);
  const hub = useStudio((s) => s.dataHub);
  const setHub = useStudio((s) => s.setDataHub);
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
  const [demoError, setDemoError] = useState<string | null>(null);
  // The demo file ships with the app (public/demo/): fetched from the page's own origin.
  const loadDemo = async () => {
    setDemoError(null);
    try {
      const res = await fetch(`${import.meta.env.BASE_URL}${DEMO_DATASET}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      await setFile(new File([await res.blob()], DEMO_DATASET.split('/').pop()!, { type: 'application/jsonl' }));
    } catch (e) {
      setDemoError(`The demo dataset (${DEMO_DATASET}) could not be fetched: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return (
    <>
      <header className="screen-head">
        <h1>Data</h1>
        <p className="lede">A preference dataset: for each prompt (or source sentence), a chosen and a rejected answer.</p>
      </header>
      <section className="card" aria-labelledby="data-h">
        <h2 id="data-h">Preference dataset: a file or a Hub id</h2>
        <DropZone label="Dataset" accept={DATASET_EXTENSIONS.join(',')} buttonText="Choose a file" disabled={loading} onFiles={(f) => void setFile(f[0])}>
          <p>
            Drop a <strong>JSONL, JSON, CSV, TSV or Parquet</strong> file here (gzip is fine). TRL columns (prompt, chosen, rejected), translation triplets and the ALMA-R format are detected.
          </p>
          <p>
            <button type="button" className="secondary" disabled={loading} onClick={() => void loadDemo()}>
              Use the demo dataset
            </button>{' '}
            <span className="muted small">WMT22 translation triplets: 320 rows of de-en, en-de, cs-en and zh-en (public/demo/).</span>
          </p>
          {demoError && (
            <p className="note error" role="alert">
              {demoError}
            </p>
          )}
          {file && (
            <p className="muted small">
              {file.name ?? 'dataset'} · {formatBytes(file.size)}
            </p>
          )}
        </DropZone>
        <HubDatasetInput
          legend="Or a dataset from the Hugging Face Hub"
          hint="e.g. trl-lib/ultrafeedback_binarized or haoranxu/ALMA-R-Preference; read from the Hub's Parquet conversion"
          disabled={loading}
          onLoad={(spec) => void setHub(spec)}
        />
        {hub && (
          <p className="muted small" data-testid="data-hub">
            {formatHfDatasetSpec(hub)}
            {info?.hub && info.name === formatHfDatasetSpec(hub) && ` · commit ${info.hub.commit.slice(0, 8)}${info.hub.partial ? ' · only part of this split was converted by the Hub' : ''}`}
          </p>
        )}
        {!modelReady && <p className="muted small">Token counts and truncation use the model's tokenizer: they are exact once a model is loaded.</p>}
        {loading && <ProgressBar label={progressLabel(progress?.what)} value={progress?.loaded} max={progress?.total} detail={progress && progress.total > 0 ? progressDetail(progress) : undefined} />}
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
                disabled={!(file || hub) || loading || !!fracErr || !!seedErr}
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
      <BuildPrefs />
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
