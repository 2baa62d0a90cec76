// The memory estimate for the current plan: the loaded model's dims when there is one, else the catalog's.
import { formatBytes, formatCount } from '../lib/format.ts';
import { useShallow } from 'zustand/react/shallow';
import { useStudio, useStudioStore } from '../store/context.tsx';
import { memoryPlan, planDims } from '../store/selectors.ts';
import { MemoryBar } from './MemoryBar.tsx';

/** The estimate for the training settings, or for `what` (the Start screen's what-if, which does not change them). */
export function MemoryEstimate({ what = {} }: { what?: { batchSize?: number; maxLength?: number } }) {
  const source = useStudio((s) => planDims(s).source);
  const quant = useStudio((s) => s.quant);
  const batchSize = useStudio((s) => what.batchSize ?? s.config.batchSize);
  const maxLength = useStudio((s) => what.maxLength ?? s.config.maxLength);
  const r = useStudio((s) => s.config.r);
  const gpu = useStudio((s) => s.gpu);
  const deviceMemory = useStudio((s) => s.deviceMemoryGiB);
  // Everything else the plan reads, so the estimate redraws when any of it changes.
  useStudio(useShallow((s) => [s.modelInfo, s.plannedModelId, s.config.targets]));
  const plan = memoryPlan(useStudioStore().getState(), { batchSize, maxLength });
  if (!plan) return <p className="muted">Pick a model to see its memory estimate.</p>;
  const { est, limit: avail } = plan;
  const maxBuffer = gpu?.available ? gpu.maxBufferSize : 0;
  return (
    <div className="memory">
      <p className="muted small">
        {source} · {quant === 'none' ? 'f32' : quant} weights · batch {batchSize} × {maxLength} tokens · LoRA r {r} ({formatCount(est.loraParams)} trainable parameters)
      </p>
      <MemoryBar
        label="Estimated GPU memory"
        limit={avail}
        limitLabel={deviceMemory ? `available (half of ${deviceMemory} GiB RAM)` : 'assumed available'}
        parts={[
          { label: 'Base weights', bytes: est.baseBytes, className: 'seg-base' },
          { label: 'LoRA + optimizer', bytes: est.loraBytes, className: 'seg-lora' },
          { label: 'Activations', bytes: est.activationBytes, className: 'seg-act' },
          { label: 'Scratch', bytes: est.scratchBytes, className: 'seg-scratch' },
        ]}
      />
      {maxBuffer > 0 && (
        <MemoryBar label={`Largest single buffer (${est.largestBufferWhat})`} limit={maxBuffer} limitLabel="maxBufferSize" parts={[{ label: est.largestBufferWhat, bytes: est.largestBufferBytes, className: 'seg-base' }]} />
      )}
      <p className="muted small">
        An estimate from the model's shape, not a measurement: browsers do not report GPU memory. Lower the batch size, max length or quantization if it does not fit. Total {formatBytes(est.totalBytes)}.
      </p>
    </div>
  );
}
