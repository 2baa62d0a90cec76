// A stored run's adapter for llama.cpp (GGUF) and for the web (ONNX in transformers.js' layout), beside the PEFT
// zip on the Runs screen. Both need the run's base model loaded; the web export also states what it costs in the
// tab and refuses models one ONNX file cannot hold (engine/web-limits.ts), and shows its onnxruntime-web check.
import type { RunRecord } from '../../../engine/types.ts';
import { webExportLimits } from '../../../engine/web-limits.ts';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { formatBytes } from '../../lib/format.ts';
import { useStudio } from '../../store/context.tsx';

/** Above this peak the note says how much of the tab's memory the web export takes. */
const MEMORY_NOTE_BYTES = 1 << 30;

export function RunDownloads({ r, dtype }: { r: RunRecord; dtype: 'f32' | 'f16' }) {
  const anyBusy = useStudio((s) => s.busyRunId !== null);
  const busy = useStudio((s) => s.busyRunId === r.id);
  const model = useStudio((s) => (s.modelStatus === 'ready' ? s.modelInfo : null));
  const check = useStudio((s) => s.webChecks[r.id]);
  const progress = useStudio((s) => (s.busyRunId === r.id ? s.exportProgress : null));
  const downloadGguf = useStudio((s) => s.downloadGguf);
  const downloadWeb = useStudio((s) => s.downloadWeb);
  const modelLoaded = model?.name === r.modelName;
  const limits = modelLoaded ? webExportLimits(model) : null;
  const needsModel = `GGUF and ONNX need the run's base model, ${r.modelName}: load it on the Model screen first.`;
  return (
    <div className="run-downloads">
      <div className="row-actions">
        <button
          type="button"
          className="secondary"
          disabled={anyBusy || r.step === 0 || !modelLoaded}
          title={modelLoaded ? 'One .gguf file for llama.cpp (--lora) and Ollama (ADAPTER)' : needsModel}
          onClick={() => void downloadGguf(r.id, dtype)}
          aria-label={`Download ${r.name} as GGUF`}
        >
          GGUF
        </button>
        <button
          type="button"
          className="secondary"
          disabled={anyBusy || r.step === 0 || !modelLoaded || !!limits?.refuse}
          title={limits?.refuse ?? (modelLoaded ? 'Base + merged adapter as ONNX for transformers.js and onnxruntime-web, checked before the download' : needsModel)}
          onClick={() => void downloadWeb(r.id)}
          aria-label={`Download ${r.name} as ONNX for the web`}
        >
          {busy && check?.status === 'checking' ? 'Checking…' : 'ONNX (web)'}
        </button>
      </div>
      {!modelLoaded && r.step > 0 && <p className="small muted">{needsModel}</p>}
      {limits?.refuse && (
        <p className="small note warn" data-testid="web-limit">
          {limits.refuse}
        </p>
      )}
      {limits && !limits.refuse && limits.peakBytes > MEMORY_NOTE_BYTES && (
        <p className="small muted" data-testid="web-limit">
          The web export writes about {formatBytes(limits.fp32Bytes)} (fp32) and takes about {formatBytes(limits.peakBytes)} of this tab's memory while it is made and checked.
        </p>
      )}
      {progress && <ProgressBar label={progress.what} value={progress.loaded} max={progress.total} />}
      {check?.status === 'passed' && (
        <p className="small" data-testid="web-check">
          onnxruntime-web check passed ({check.check.checked}): max |logit difference| {check.check.maxAbsDiff.toExponential(2)} (largest logit {check.check.maxAbsLogit.toFixed(2)}), the
          same most likely token in {check.check.argmaxAgree} of {check.check.steps} steps.
        </p>
      )}
      {check?.status === 'refused' && (
        <p className="small note error" role="alert" data-testid="web-check">
          {check.message}
        </p>
      )}
    </div>
  );
}
