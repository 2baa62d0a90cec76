// Training: presets and every hyperparameter of RunConfig, each with its bounds and inline error.
import type { LossType } from '../../train/losses.ts';
import type { Schedule } from '../../engine/types.ts';
import { MemoryEstimate } from '../components/MemoryEstimate.tsx';
import { Field, NumberInput, Select, TextInput } from '../components/fields.tsx';
import { PROJECTIONS } from '../../model/projections.ts';
import { PRESET_INFO, isPreset } from '../lib/presets.ts';
import { NUMBER_FIELDS, validateConfig, type FieldGroup } from '../lib/validate.ts';
import { useStudio, useStudioStore } from '../store/context.tsx';
import { sameLengths, startBlockers } from '../store/selectors.ts';

const LOSSES: { value: LossType; label: string }[] = [
  { value: 'sigmoid', label: 'sigmoid (CPO)' },
  { value: 'hinge', label: 'hinge' },
  { value: 'ipo', label: 'ipo' },
  { value: 'simpo', label: 'simpo (CPO-SimPO)' },
  { value: 'dpo', label: 'dpo (reference: the base model, adapter off)' },
  { value: 'sft', label: 'sft (NLL only)' },
];

const SCHEDULES: { value: Schedule; label: string }[] = [
  { value: 'inverse_sqrt', label: 'inverse square root' },
  { value: 'linear', label: 'linear decay' },
  { value: 'cosine', label: 'cosine' },
  { value: 'constant', label: 'constant' },
];

const GROUPS: FieldGroup[] = ['LoRA', 'Loss', 'Optimizer', 'Schedule', 'Batch and length', 'Run'];

function Targets() {
  const targets = useStudio((s) => s.config.targets);
  const setConfig = useStudio((s) => s.setConfig);
  const error = useStudio((s) => validateConfig(s.config, s.drafts).targets);
  const all = targets === 'all-linear';
  return (
    <fieldset className={`targets${error ? ' has-error' : ''}`} aria-describedby={error ? 'targets-err' : undefined}>
      <legend>Target modules</legend>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => setConfig({ targets: e.target.checked ? 'all-linear' : ['down_proj'] })} /> all linear layers
      </label>
      {PROJECTIONS.map((m) => (
        <label key={m} className="check">
          <input
            type="checkbox"
            disabled={all}
            checked={all || (targets as string[]).includes(m)}
            onChange={(e) => {
              const cur = all ? [] : (targets as string[]);
              setConfig({ targets: e.target.checked ? [...cur, m] : cur.filter((t) => t !== m) });
            }}
          />{' '}
          {m}
        </label>
      ))}
      {error && (
        <span className="field-error" id="targets-err" role="alert">
          {error}
        </span>
      )}
    </fieldset>
  );
}

export function StartButton({ secondary = false }: { secondary?: boolean }) {
  const store = useStudioStore();
  const blockers = useStudio((s) => startBlockers(s).join('\n'));
  const start = useStudio((s) => s.startTraining);
  const go = useStudio((s) => s.go);
  const list = blockers ? blockers.split('\n') : [];
  return (
    <div className="start-block">
      <button
        type="button"
        className={secondary ? 'secondary' : 'primary'}
        disabled={list.length > 0}
        aria-describedby={list.length ? 'start-blockers' : undefined}
        onClick={() => {
          if (store.getState().screen !== 'run') go('run');
          void start();
        }}
      >
        Start training
      </button>
      {list.length > 0 && (
        <ul className="blockers small" id="start-blockers">
          {list.map((b) => (
            <li key={b}>{b}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function TrainingScreen() {
  const config = useStudio((s) => s.config);
  const drafts = useStudio((s) => s.drafts);
  const setField = useStudio((s) => s.setField);
  const setConfig = useStudio((s) => s.setConfig);
  const applyPreset = useStudio((s) => s.applyPreset);
  const dataLengths = useStudio((s) => (s.dataInfo ? s.dataLengths : null));
  const errors = validateConfig(config, drafts);
  const effBatch = config.batchSize * config.gradAccum;

  return (
    <>
      <header className="screen-head">
        <h1>Training</h1>
        <p className="lede">Start from a preset and adjust. CPO trains the adapter to prefer the chosen answer over the rejected one, plus an NLL term on the chosen answer.</p>
      </header>
      <section className="card" aria-labelledby="preset-h">
        <h2 id="preset-h">Preset</h2>
        <div className="preset-row" role="radiogroup" aria-labelledby="preset-h">
          {PRESET_INFO.map((p) => (
            <button key={p.id} type="button" role="radio" aria-checked={isPreset(config, p.label)} className={`preset${isPreset(config, p.label) ? ' selected' : ''}`} onClick={() => applyPreset(p.label)}>
              <strong>{p.label}</strong>
              <span className="small muted">{p.description}</span>
            </button>
          ))}
          {config.preset === 'custom' && <span className="muted small">Custom settings</span>}
        </div>
      </section>
      <form className="card config-form" aria-labelledby="hp-h" onSubmit={(e) => e.preventDefault()} noValidate>
        <h2 id="hp-h">Hyperparameters</h2>
        <div className="grid-2">
          <TextInput label="Run name" value={config.name} error={errors.name} onChange={(v) => setConfig({ name: v, preset: config.preset })} />
        </div>
        {GROUPS.map((g) => (
          <fieldset key={g}>
            <legend>{g}</legend>
            <div className="grid-4">
              {g === 'Loss' && <Select label="Loss" value={config.loss} options={LOSSES} onChange={(v) => setConfig({ loss: v })} />}
              {g === 'Schedule' && <Select label="Learning-rate schedule" value={config.schedule} options={SCHEDULES} onChange={(v) => setConfig({ schedule: v })} />}
              {NUMBER_FIELDS.filter((f) => f.group === g).map((f) => (
                <NumberInput key={f.key} label={f.label} value={drafts[f.key] ?? String(config[f.key])} error={errors[f.key]} hint={f.hint} onChange={(v) => setField(f.key, v)} />
              ))}
              {g === 'LoRA' && (
                <Field label="rsLoRA scaling" hint="alpha / √r instead of alpha / r">
                  {({ id, describedBy }) => (
                    <input id={id} type="checkbox" className="checkbox" checked={config.useRslora} aria-describedby={describedBy} onChange={(e) => setConfig({ useRslora: e.target.checked })} />
                  )}
                </Field>
              )}
            </div>
            {g === 'LoRA' && <Targets />}
            {g === 'Batch and length' && (
              <p className="muted small">
                Effective batch: {Number.isFinite(effBatch) ? effBatch : '—'} pairs per optimizer step ({config.batchSize} × {config.gradAccum} accumulation).
              </p>
            )}
            {g === 'Batch and length' && dataLengths && !sameLengths(dataLengths, config) && (
              <p className="muted small" data-testid="data-reread">
                The dataset was read for {dataLengths.maxLength} tokens (prompt {dataLengths.maxPromptLength}); it is read again with these limits when the run starts.
              </p>
            )}
          </fieldset>
        ))}
      </form>
      <section className="card" aria-labelledby="mem-h">
        <h2 id="mem-h">Memory</h2>
        <MemoryEstimate />
      </section>
      <div className="actions">
        <StartButton />
      </div>
    </>
  );
}
