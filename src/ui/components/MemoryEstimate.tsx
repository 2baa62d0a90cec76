// The memory estimate for the current plan: the loaded model's dims when there is one, else the catalog's.
import { estimateMemory, availableBytes } from '../lib/memory.ts';
import { catalogModel, dimsFromInfo, type ModelDims } from '../lib/models.ts';
import { formatBytes, formatCount } from '../lib/format.ts';
import { useStudio } from '../store/context.tsx';
import { MemoryBar } from './MemoryBar.tsx';

export function useModelDims(): { dims: ModelDims | null; source: string } {
  const info = useStudio((s) => s.modelInfo);
  const planned = useStudio((s) => s.plannedModelId);
  if (info) return { dims: dimsFromInfo(info), source: `${info.name} (loaded)` };
  const m = catalogModel(planned);
  return m ? { dims: m.dims, source: m.label } : { dims: null, source: '' };
}

export function MemoryEstimate() {
  const { dims, source } = useModelDims();
  const quant = useStudio((s) => s.quant);
  const batchSize = useStudio((s) => s.config.batchSize);
  const maxLength = useStudio((s) => s.config.maxLength);
  const r = useStudio((s) => s.config.r);
  const targets = useStudio((s) => s.config.targets);
  const gpu = useStudio((s) => s.gpu);
  const deviceMemory = useStudio((s) => s.deviceMemoryGiB);
  if (!dims) return <p className="muted">Pick a model to see its memory estimate.</p>;
  const est = estimateMemory({ dims, quant, batchSize, maxLength, r, targets });
  const avail = availableBytes(deviceMemory);
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
