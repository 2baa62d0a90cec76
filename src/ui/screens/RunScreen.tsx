// Run: progress, controls and live charts. The charts read the series store directly; this component
// re-renders only on throttled progress updates.
import { useState } from 'react';
import { useStudio, useSeries } from '../store/context.tsx';
import { LineChart } from '../components/LineChart.tsx';
import { DataProgress } from '../components/DataProgress.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { formatBytes, formatCount, formatDuration, formatNumber } from '../lib/format.ts';
import { StartButton } from './TrainingScreen.tsx';
import { ResultsCard } from './run/ResultsCard.tsx';
import { UnfinishedRunsNote } from '../components/UnfinishedRunsNote.tsx';
import { resultsOf } from '../lib/results.ts';
import { isActive } from '../store/selectors.ts';
import { PHASE_WORDS } from '../store/training.ts';

const pct = (v: number) => `${Math.round(v * 100)}%`;
const lrFmt = (v: number) => (v === 0 ? '0' : v.toExponential(1).replace('e-', 'e-').replace('.0e', 'e'));
const ACC_DOMAIN: [number, number] = [0, 1];

// `evals`: the held-out evaluations of the same metric (eval_<metric>) are drawn as dots on the chart.
const CHARTS: { metric: string; title: string; hint?: string; format?: (v: number) => string; yDomain?: [number, number]; evals?: boolean }[] = [
  { evals: true, metric: 'loss', title: 'Loss', hint: 'preference loss + CPO alpha × NLL; should fall' },
  { evals: true, metric: 'nll_loss', title: 'NLL loss', hint: 'on the chosen answers' },
  { evals: true, metric: 'rewards/margins', title: 'Reward margin', hint: 'chosen − rejected; should rise' },
  { evals: true, metric: 'rewards/accuracies', title: 'Reward accuracy', hint: 'share of pairs ranked right', format: pct, yDomain: ACC_DOMAIN },
  { evals: true, metric: 'logps/chosen', title: 'Log-prob, chosen', hint: 'nats, summed over the answer’s tokens (ipo, simpo: mean per token)' },
  { evals: true, metric: 'logps/rejected', title: 'Log-prob, rejected', hint: 'nats, summed over the answer’s tokens (ipo, simpo: mean per token)' },
  // TRL's logits/* average every logit of its right-padded half-batch, prompt and padding included, so its
  // number moves with padding; ours is the mean over the answers' positions, and the hint says so.
  { evals: true, metric: 'logits/chosen', title: 'Mean logit, chosen', hint: 'mean over the answer’s positions and the vocabulary; TRL’s logits/chosen also averages prompt and padding positions, so the two differ' },
  { metric: 'grad_norm', title: 'Gradient norm', hint: 'before clipping' },
  { metric: 'learning_rate', title: 'Learning rate', format: lrFmt },
  { metric: 'tokens_per_second', title: 'Tokens per second' },
];


// The eval metrics worth a glance; all of them stay in the run's stored history.
const EVAL_SHOWN: [string, string, ((v: number) => string)?][] = [
  ['loss', 'loss'],
  ['nll_loss', 'NLL'],
  ['rewards/accuracies', 'reward accuracy', pct],
  ['rewards/margins', 'margin'],
];
const evalValue = (m: Record<string, number>, k: string) => m[`eval_${k}`] ?? m[`eval/${k}`] ?? m[k];

function Controls() {
  const phase = useStudio((s) => s.run.phase);
  const runId = useStudio((s) => s.run.runId);
  const pending = useStudio((s) => s.run.pending);
  const pause = useStudio((s) => s.pause);
  const resume = useStudio((s) => s.resume);
  const stop = useStudio((s) => s.stop);
  const lockMessage = useStudio((s) => s.lockMessage);
  const active = isActive(phase);
  const paused = phase === 'paused' && !!runId;
  return (
    <>
      <div className="controls" role="group" aria-label="Run controls">
        {/* While a run is paused, resuming it is the likely next step, not starting another. */}
        <StartButton secondary={paused} />
        <button type="button" className="secondary" disabled={(phase !== 'running' && phase !== 'recovering') || !!pending} onClick={() => void pause()}>
          {pending === 'pause' ? 'Pausing…' : 'Pause'}
        </button>
        <button type="button" className={paused ? 'primary' : 'secondary'} disabled={!paused} onClick={() => void resume()}>
          Resume
        </button>
        <button type="button" className="danger" disabled={!(active || paused) || phase === 'finishing' || pending === 'stop'} onClick={() => void stop()}>
          {pending === 'stop' ? 'Stopping…' : 'Stop'}
        </button>
      </div>
      {lockMessage && (
        <p className="note warn" role="alert">
          {lockMessage}
        </p>
      )}
    </>
  );
}

function Progress() {
  const run = useStudio((s) => s.run);
  // A run whose max lengths differ from the file's reads it again first: its read and tokenization, counted.
  const rereading = useStudio((s) => s.run.phase === 'starting' && s.dataStatus === 'loading');
  const m = run.lastMetrics;
  const detail = run.totalSteps > 0 ? `step ${formatCount(run.step)} of ${formatCount(run.totalSteps)}` : undefined;
  return (
    <section className="card" aria-labelledby="progress-h">
      <div className="card-head">
        <h2 id="progress-h">
          {run.config?.name ?? 'Run'} <span className={`badge phase-${run.phase}`}>{PHASE_WORDS[run.phase] ?? run.phase}</span>
        </h2>
        {run.runId && <span className="muted small">id {run.runId}</span>}
      </div>
      <ProgressBar label="Training progress" value={run.phase === 'starting' && !run.totalSteps ? undefined : run.step} max={run.totalSteps || (run.phase === 'starting' ? undefined : 1)} detail={detail} />
      <dl className="stats">
        <div>
          <dt>Step</dt>
          <dd>
            {formatCount(run.step)} / {run.totalSteps ? formatCount(run.totalSteps) : '—'}
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{formatCount(run.tokens)}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{run.phase === 'running' && run.etaMs !== undefined ? formatDuration(run.etaMs) : '—'}</dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd>{m ? formatNumber(m.loss, 4) : '—'}</dd>
        </div>
        <div>
          <dt>Reward accuracy</dt>
          <dd>{m ? pct(m['rewards/accuracies']) : '—'}</dd>
        </div>
        <div>
          <dt>GPU memory</dt>
          <dd>{m?.gpu_bytes ? formatBytes(m.gpu_bytes) : '—'}</dd>
        </div>
      </dl>
      {run.message && (
        <p className={`note ${run.phase === 'failed' ? 'error' : ''}`} role={run.phase === 'failed' ? 'alert' : 'status'}>
          {run.message}
        </p>
      )}
      {rereading && <DataProgress />}
      {run.lastEval && EVAL_SHOWN.some(([k]) => Number.isFinite(evalValue(run.lastEval!.metrics, k))) && (
        <p className="small" data-testid="last-eval">
          <strong>Eval at step {run.lastEval.step}</strong> ({run.lastEval.metrics.eval_pairs ? `${formatCount(run.lastEval.metrics.eval_pairs)} held-out pairs` : 'held-out pairs'}):{' '}
          {EVAL_SHOWN.filter(([k]) => Number.isFinite(evalValue(run.lastEval!.metrics, k)))
            .map(([k, label, fmt]) => `${label} ${(fmt ?? ((v: number) => formatNumber(v, 4)))(evalValue(run.lastEval!.metrics, k))}`)
            .join(' · ')}
        </p>
      )}
      {run.lastCheckpoint && (
        <p className="muted small">
          Checkpoint saved at step {run.lastCheckpoint.step} ({formatBytes(run.lastCheckpoint.bytes)}).
        </p>
      )}
    </section>
  );
}

function Results() {
  const runId = useStudio((s) => s.run.runId);
  const name = useStudio((s) => s.run.config?.name ?? '');
  const finished = useStudio((s) => s.run.phase === 'finished');
  const metrics = useStudio((s) => s.run.lastEval?.metrics);
  const samples = useStudio((s) => s.run.samples);
  const results = resultsOf(metrics);
  if (!finished || !runId || !results) return null;
  return <ResultsCard runId={runId} name={name} results={results} samples={samples} />;
}

const SMOOTHING_KEY = 'cpo-studio:smoothing';

function savedSmoothing(): number {
  try {
    const v = Number(localStorage.getItem(SMOOTHING_KEY) ?? '0.6');
    return v >= 0 && v < 1 ? v : 0.6;
  } catch {
    return 0.6;
  }
}

/** The EMA weight of the charts' smoothed line, as TensorBoard's slider (0: raw only; 0.6 by default, as there). */
function Smoothing({ value, onChange }: { value: number; onChange: (v: number) => void }) {
  return (
    <div className="smoothing">
      <label htmlFor="smoothing">Smoothing</label>
      <input
        id="smoothing"
        type="range"
        min={0}
        max={0.99}
        step={0.01}
        value={value}
        aria-valuetext={value === 0 ? 'off' : value.toFixed(2)}
        onChange={(e) => {
          const v = Number(e.target.value);
          onChange(v);
          try {
            localStorage.setItem(SMOOTHING_KEY, String(v));
          } catch {
            // storage blocked: the setting lasts for this page
          }
        }}
      />
      <output htmlFor="smoothing">{value === 0 ? 'off' : value.toFixed(2)}</output>
      <span className="muted small">exponential moving average; the raw line stays faint behind it</span>
    </div>
  );
}

export function RunScreen() {
  const series = useSeries();
  const [smoothing, setSmoothing] = useState(savedSmoothing);
  return (
    <>
      <header className="screen-head">
        <h1>Run</h1>
        <p className="lede">Live metrics, one point per optimizer step. Hover a chart, or focus it and use the arrow keys, to read values.</p>
      </header>
      <UnfinishedRunsNote />
      <Controls />
      <Progress />
      <Results />
      <Smoothing value={smoothing} onChange={setSmoothing} />
      <section className="charts" aria-label="Training charts">
        {CHARTS.map(({ evals, ...c }) => (
          <LineChart key={c.metric} series={series} smoothing={smoothing} evalMetric={evals ? `eval_${c.metric}` : undefined} {...c} />
        ))}
      </section>
    </>
  );
}
