// The studio shell: a step list on the left, one screen at a time on the right.
import { useEffect, useRef } from 'react';
import { flagEnabled } from './lib/flags.ts';
import { presetLabel } from './lib/presets.ts';
import { useStudio, useStudioStore } from './store/context.tsx';
import { hashOf, screenOfHash, type Screen } from './store/nav.ts';
import { isActive, trainingStep } from './store/selectors.ts';
import { CompareScreen } from './screens/CompareScreen.tsx';
import { DataScreen } from './screens/DataScreen.tsx';
import { ModelScreen } from './screens/ModelScreen.tsx';
import { RunScreen } from './screens/RunScreen.tsx';
import { RunsScreen } from './screens/RunsScreen.tsx';
import { StartScreen } from './screens/StartScreen.tsx';
import { TrainingScreen } from './screens/TrainingScreen.tsx';

type StepState = 'done' | 'todo' | 'problem' | 'active';

const SCREENS: Record<Screen, () => React.JSX.Element> = {
  start: StartScreen,
  model: ModelScreen,
  data: DataScreen,
  training: TrainingScreen,
  run: RunScreen,
  runs: RunsScreen,
  compare: CompareScreen,
};

function useSteps(compare: boolean): { id: Screen; label: string; state: StepState; detail: string }[] {
  const gpu = useStudio((s) => s.gpu);
  const modelStatus = useStudio((s) => s.modelStatus);
  const modelName = useStudio((s) => s.modelInfo?.name ?? '');
  const dataStatus = useStudio((s) => s.dataStatus);
  const pairs = useStudio((s) => s.dataInfo?.trainPairs ?? 0);
  const trainingState = useStudio((s) => trainingStep(s).state);
  const trainingDetail = useStudio((s) => trainingStep(s).detail);
  const preset = useStudio((s) => s.config.preset);
  const phase = useStudio((s) => s.run.phase);
  const step = useStudio((s) => s.run.step);
  const total = useStudio((s) => s.run.totalSteps);
  const nRuns = useStudio((s) => s.runs.length);
  const steps: { id: Screen; label: string; state: StepState; detail: string }[] = [
    { id: 'start', label: 'Start', state: !gpu ? 'todo' : gpu.available ? 'done' : 'problem', detail: !gpu ? 'checking WebGPU' : gpu.available ? 'WebGPU ready' : 'no WebGPU' },
    { id: 'model', label: 'Model', state: modelStatus === 'ready' ? 'done' : modelStatus === 'error' ? 'problem' : modelStatus === 'loading' ? 'active' : 'todo', detail: modelStatus === 'ready' ? modelName : modelStatus === 'loading' ? 'loading…' : modelStatus === 'error' ? 'failed to load' : 'not loaded' },
    { id: 'data', label: 'Data', state: dataStatus === 'ready' && pairs > 0 ? 'done' : dataStatus === 'error' || (dataStatus === 'ready' && pairs === 0) ? 'problem' : dataStatus === 'loading' ? 'active' : 'todo', detail: dataStatus === 'ready' ? `${pairs.toLocaleString('en-US')} train pairs` : dataStatus === 'loading' ? 'reading…' : dataStatus === 'error' ? 'needs attention' : 'no dataset' },
    { id: 'training', label: 'Training', state: trainingState, detail: trainingState === 'done' ? (preset === 'custom' ? 'custom settings' : presetLabel(preset)) : trainingDetail },
    { id: 'run', label: 'Run', state: isActive(phase) ? 'active' : phase === 'failed' ? 'problem' : phase === 'finished' ? 'done' : 'todo', detail: phase === 'idle' ? 'not started' : `${phase} · ${step}/${total || '?'}` },
    { id: 'runs', label: 'Runs', state: nRuns ? 'done' : 'todo', detail: `${nRuns} stored` },
  ];
  if (compare) steps.push({ id: 'compare', label: 'Compare', state: 'todo', detail: 'base vs adapter' });
  return steps;
}

const ICON: Record<StepState, string> = { done: '✓', todo: '', problem: '!', active: '…' };

// Its own component: it follows run progress, and those updates should not re-render the screen beside it.
function StepNav({ compare }: { compare: boolean }) {
  const screen = useStudio((s) => s.screen);
  const go = useStudio((s) => s.go);
  const steps = useSteps(compare);
  return (
    <nav className="steps" aria-label="Studio steps">
      <ol>
        {steps.map((s, i) => (
          <li key={s.id}>
            <button type="button" className={`step step-${s.state}${screen === s.id ? ' current' : ''}`} aria-current={screen === s.id ? 'step' : undefined} onClick={() => go(s.id)}>
              <span className="step-num" aria-hidden="true">
                {ICON[s.state] || i + 1}
              </span>
              <span className="step-text">
                <span className="step-label">{s.label}</span>
                <span className="step-detail">{s.detail}</span>
              </span>
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}

export function App() {
  const store = useStudioStore();
  const screen = useStudio((s) => s.screen);
  const compare = useRef(flagEnabled('compare')).current;
  const headingRef = useRef<HTMLDivElement>(null);
  const first = useRef(true);

  useEffect(() => {
    void store.getState().checkGpu();
    void store.getState().refreshRuns();
  }, [store]);

  // A hash route per screen, so Back, Forward and bookmarks work: the URL follows the screen, and a changed
  // URL (Back, a bookmark, a typed hash) moves the screen.
  useEffect(() => {
    const fromUrl = () => {
      const want = screenOfHash(location.hash);
      if (want && want !== store.getState().screen) store.getState().go(want);
    };
    fromUrl();
    const unsubscribe = store.subscribe((s, prev) => {
      if (s.screen !== prev.screen && screenOfHash(location.hash) !== s.screen) history.pushState(null, '', hashOf(s.screen));
    });
    addEventListener('popstate', fromUrl);
    addEventListener('hashchange', fromUrl);
    return () => {
      unsubscribe();
      removeEventListener('popstate', fromUrl);
      removeEventListener('hashchange', fromUrl);
    };
  }, [store]);

  // Leaving mid-run loses the in-memory optimizer state since the last checkpoint.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!isActive(store.getState().run.phase)) return;
      e.preventDefault();
      e.returnValue = '';
    };
    addEventListener('beforeunload', onBeforeUnload);
    return () => removeEventListener('beforeunload', onBeforeUnload);
  }, [store]);

  // Move focus to the new screen's content so keyboard and screen-reader users land on its content.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    headingRef.current?.focus({ preventScroll: true });
    scrollTo({ top: 0 });
  }, [screen]);

  const Current = SCREENS[screen === 'compare' && !compare ? 'start' : screen];
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="var(--accent)" />
            <path d="M8 21l5-6 4 4 7-9" stroke="#fff" strokeWidth="2.6" fill="none" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <span>CPO Studio</span>
        </div>
        <span className="topbar-note">Preference fine-tuning on WebGPU, in your browser</span>
      </header>
      <StepNav compare={compare} />
      <main id="main" className="content" ref={headingRef} tabIndex={-1}>
        <Current />
      </main>
    </div>
  );
}
