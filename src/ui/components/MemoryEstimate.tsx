// The engine's memory plan (train/memory-plan.ts) for the current settings: the loaded model's shape when there
// is one, else the catalog's. Start and Training show this one component, so their numbers cannot differ.
import { formatBytes, formatCount } from '../lib/format.ts';
import { useShallow } from 'zustand/react/shallow';
import { useStudio, useStudioStore } from '../store/context.tsx';
import { memoryPlan, planDims } from '../store/selectors.ts';
import { MemoryBar } from './MemoryBar.tsx';

/** The plan for the training settings, or for `what` (the Start screen's what-if, which does not change them). */
export function MemoryEstimate({ what = {} }: { what?: { batchSize?: number; maxLength?: number } }) {
  const source = useStudio((s) => planDims(s).source);
  const quant = useStudio((s) => s.quant);
  const batchSize = useStudio((s) => what.batchSize ?? s.config.batchSize);
  const maxLength = useStudio((s) => what.maxLength ?? s.config.maxLength);
  const r = useStudio((s) => s.config.r);
  const gpu = useStudio((s) => s.gpu);
  const deviceMemory = useStudio((s) => s.deviceMemoryGiB);
  // Everything else the plan reads, so it redraws when any of it changes.
  useStudio(useShallow((s) => [s.modelInfo, s.plannedModelId, s.config.targets, s.config.dropout]));
  const planned = memoryPlan(useStudioStore().getState(), { batchSize, maxLength });
  if (!planned) return <p className="muted">Pick a model to see its memory plan.</p>;
  const { plan, limit: avail } = planned;
  const maxBuffer = gpu?.available ? gpu.maxBufferSize : 0;
  const loadHigher = plan.loadPeakBytes > plan.stepBytes;
  return (
    <div className="memory" data-testid="memory-plan" data-peak-bytes={plan.peakBytes} data-step-bytes={plan.stepBytes}>
      <p className="muted small">
        {source} · {quant === 'none' ? 'f32' : quant} weights · batch {batchSize} × {maxLength} tokens · LoRA r {r} ({formatCount(plan.loraParams)} trainable parameters)
      </p>
      <MemoryBar
        label="Planned GPU memory"
        limit={avail}
        limitLabel={deviceMemory ? `available (half of ${deviceMemory} GiB RAM)` : 'assumed available'}
        parts={[
          { label: 'Base weights', bytes: plan.baseBytes, className: 'seg-base' },
          { label: 'LoRA + optimizer', bytes: plan.loraBytes + plan.optimizerBytes, className: 'seg-lora' },
          { label: 'Activations', bytes: plan.workspaceBytes, className: 'seg-act' },
          { label: 'Scratch', bytes: plan.scratchBytes, className: 'seg-scratch' },
        ]}
      />
      {maxBuffer > 0 && (
        <MemoryBar label={`Largest single buffer (${plan.largestBuffer.what})`} limit={maxBuffer} limitLabel="maxBufferSize" parts={[{ label: plan.largestBuffer.what, bytes: plan.largestBuffer.bytes, className: 'seg-base' }]} />
      )}
      <p className="muted small">
        The engine's own plan for its largest micro-batch (every sequence at the max length): the buffers a training step allocates, {formatBytes(plan.stepBytes)} in all
        {loadHigher ? `; loading the model peaks higher, at ${formatBytes(plan.loadPeakBytes)}, while a tensor is quantized` : ''}. Browsers do not report GPU memory, so what is available is assumed: lower the batch size, max length or quantization if it does not fit.
      </p>
    </div>
  );
}
