// Start: what WebGPU this browser offers, and whether the planned run fits before anything downloads.
import { useState } from 'react';
import type { Quant } from '../../engine/types.ts';
import { MemoryEstimate } from '../components/MemoryEstimate.tsx';
import { UnfinishedRunsNote } from '../components/UnfinishedRunsNote.tsx';
import { NumberInput, Select } from '../components/fields.tsx';
import { formatBytes } from '../lib/format.ts';
import { MODEL_CATALOG } from '../lib/models.ts';
import { FIELD_BY_KEY, checkNumber } from '../lib/validate.ts';
import { howToEnableWebGpu, isSoftwareAdapter } from '../lib/webgpu.ts';
import { useStudio } from '../store/context.tsx';

export const QUANT_OPTIONS: { value: Quant; label: string }[] = [
  { value: 'q4_0', label: 'q4_0 (4-bit, smallest)' },
  { value: 'q8_0', label: 'q8_0 (8-bit)' },
  { value: 'f16', label: 'f16 (half precision)' },
  { value: 'none', label: 'none (f32, as stored)' },
];

function GpuCheck() {
  const gpu = useStudio((s) => s.gpu);
  const status = useStudio((s) => s.gpuStatus);
  const note = useStudio((s) => s.gpuEngineNote);
  const checkGpu = useStudio((s) => s.checkGpu);
  return (
    <section className="card" aria-labelledby="gpu-h">
      <div className="card-head">
        <h2 id="gpu-h">WebGPU check</h2>
        <button type="button" className="secondary" onClick={() => void checkGpu()} disabled={status === 'checking'}>
          Check again
        </button>
      </div>
      {status !== 'done' || !gpu ? (
        <p aria-live="polite">Asking the browser for a GPU adapter…</p>
      ) : gpu.available ? (
        <div aria-live="polite">
          <p className="status-line ok">
            <span className="dot" aria-hidden="true" /> WebGPU is available.
          </p>
          <dl className="facts" data-testid="gpu-facts">
            <dt>Adapter</dt>
            <dd>{gpu.adapter}</dd>
            <dt>16-bit floats (shader-f16)</dt>
            <dd>{gpu.f16 ? 'yes' : 'no (f32 math, more memory)'}</dd>
            <dt>Subgroups</dt>
            <dd>{gpu.subgroups ? 'yes' : 'no'}</dd>
            <dt>Largest buffer (maxBufferSize)</dt>
            <dd>{formatBytes(gpu.maxBufferSize)}</dd>
            <dt>Largest storage binding</dt>
            <dd>{formatBytes(gpu.maxStorageBufferBindingSize)}</dd>
          </dl>
          {isSoftwareAdapter(gpu.adapter) && (
            <p className="note warn">This is a software (CPU) adapter: training works but is very slow. Use the tiny demo model, or enable hardware acceleration.</p>
          )}
          {note && <p className="muted small">{note}</p>}
        </div>
      ) : (
        <div aria-live="polite">
          <p className="status-line bad">
            <span className="dot" aria-hidden="true" /> WebGPU is not available.
          </p>
          <p>{gpu.message ?? howToEnableWebGpu()}</p>
        </div>
      )}
    </section>
  );
}

/**
 * A what-if: batch size and max length here change only this estimate. They become the training settings
 * only when the user says so (they used to rewrite them silently, and turn the preset into "custom").
 */
function Plan() {
  const planned = useStudio((s) => s.plannedModelId);
  const setPlanned = useStudio((s) => s.setPlannedModel);
  const quant = useStudio((s) => s.quant);
  const setQuant = useStudio((s) => s.setQuant);
  const config = useStudio((s) => s.config);
  const setField = useStudio((s) => s.setField);
  const modelInfo = useStudio((s) => s.modelInfo);
  const [batch, setBatch] = useState<string | null>(null);
  const [length, setLength] = useState<string | null>(null);
  const b = checkNumber(FIELD_BY_KEY.batchSize, batch ?? String(config.batchSize));
  const l = checkNumber(FIELD_BY_KEY.maxLength, length ?? String(config.maxLength));
  const what = { batchSize: b.error ? undefined : b.value, maxLength: l.error ? undefined : l.value };
  const differs = (what.batchSize !== undefined && what.batchSize !== config.batchSize) || (what.maxLength !== undefined && what.maxLength !== config.maxLength);
  return (
    <section className="card" aria-labelledby="plan-h">
      <h2 id="plan-h">Will it fit?</h2>
      <div className="grid-4">
        <Select
          label="Model to plan for"
          value={planned}
          disabled={!!modelInfo}
          hint={modelInfo ? `Using the loaded ${modelInfo.name}` : undefined}
          options={MODEL_CATALOG.map((m) => ({ value: m.id, label: m.label }))}
          onChange={setPlanned}
        />
        <Select label="Quantization" value={quant} options={QUANT_OPTIONS} onChange={setQuant} />
        <NumberInput label="Batch size (pairs)" value={batch ?? String(config.batchSize)} error={b.error} onChange={setBatch} />
        <NumberInput label="Max length (tokens)" value={length ?? String(config.maxLength)} error={l.error} onChange={setLength} />
      </div>
      <MemoryEstimate what={what} />
      {differs && (
        <div className="actions">
          <span className="muted small">The training settings have batch {config.batchSize} and max length {config.maxLength}.</span>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              if (what.batchSize !== undefined) setField('batchSize', String(what.batchSize));
              if (what.maxLength !== undefined) setField('maxLength', String(what.maxLength));
              setBatch(null);
              setLength(null);
            }}
          >
            Use these for training
          </button>
        </div>
      )}
    </section>
  );
}

export function StartScreen() {
  const go = useStudio((s) => s.go);
  return (
    <>
      <header className="screen-head">
        <h1>Start</h1>
        <p className="lede">Train a LoRA adapter with Contrastive Preference Optimization on your own GPU. Nothing leaves this browser: the model, your data and the adapter stay on this machine.</p>
      </header>
      <UnfinishedRunsNote />
      <GpuCheck />
      <Plan />
      <div className="actions">
        <button type="button" onClick={() => go('model')}>
          Next: choose a model
        </button>
      </div>
    </>
  );
}
