// Model: the demo model, a Hub id, a dropped folder or a GGUF file, and the quantization to load it at.
import { COMPILE_PHASE } from '../../engine/types.ts';
import { SUPPORTED_FAMILIES } from '../../model/config.ts';
import { DropZone } from '../components/DropZone.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { HubToken } from '../components/HubToken.tsx';
import { Select, TextInput } from '../components/fields.tsx';
import { formatBytes, formatCount } from '../lib/format.ts';
import { MODEL_CATALOG } from '../lib/models.ts';
import { useStudio } from '../store/context.tsx';
import { isActive } from '../store/selectors.ts';
import type { ModelChoice } from '../store/model.ts';
import { QUANT_OPTIONS } from './StartScreen.tsx';

const CHOICES: { value: ModelChoice; label: string }[] = [
  { value: 'demo', label: 'Tiny demo model' },
  { value: 'hub', label: 'Hugging Face Hub model' },
  { value: 'files', label: 'Model folder from disk' },
  { value: 'gguf', label: 'GGUF file from disk' },
];

/** What the engine is doing, from its progress messages ("download <file>", "load <tensor>"). */
function loadLabel(what: string | undefined): string {
  if (!what) return 'Loading the model';
  if (what.startsWith('download ')) return `Downloading ${what.slice(9)}`;
  if (what.startsWith('load ')) return `Loading weights to the GPU: ${what.slice(5)}`;
  if (what === COMPILE_PHASE) return 'Compiling shaders for training (once per model)';
  return what;
}

/** The units the engine counts in: bytes for a Hub download, files for the demo, tensors while loading weights, then pipelines. */
function loadDetail(p: { loaded: number; total: number; what: string }, choice: ModelChoice): string {
  if (p.what.startsWith('load ')) return `${formatCount(p.loaded)} of ${formatCount(p.total)} tensors`;
  if (p.what === COMPILE_PHASE) return `${formatCount(p.loaded)} of ${formatCount(p.total)} pipelines`;
  if (choice === 'demo') return `${formatCount(p.loaded)} of ${formatCount(p.total)} files`;
  return `${formatBytes(p.loaded)} of ${formatBytes(p.total)}`;
}

function Loaded() {
  const info = useStudio((s) => s.modelInfo);
  if (!info) return null;
  return (
    <section className="card" aria-labelledby="loaded-h">
      <h2 id="loaded-h">Loaded: {info.name}</h2>
      <dl className="facts">
        <dt>Architecture</dt>
        <dd>{info.architecture}</dd>
        <dt>Layers · hidden · heads</dt>
        <dd>
          {info.layers} · {info.hidden} · {info.heads} ({info.kvHeads} key/value)
        </dd>
        <dt>Vocabulary</dt>
        <dd>{formatCount(info.vocab)} tokens</dd>
        <dt>Weights</dt>
        <dd>
          {formatBytes(info.baseBytes)} as {info.quant === 'none' ? 'f32' : info.quant}
        </dd>
        <dt>Chat template</dt>
        <dd>{info.hasChatTemplate ? 'yes (chat rows use it)' : 'no (plain prompts)'}</dd>
      </dl>
    </section>
  );
}

export function ModelScreen() {
  const choice = useStudio((s) => s.modelChoice);
  const setChoice = useStudio((s) => s.setModelChoice);
  const hubId = useStudio((s) => s.hubId);
  const setHubId = useStudio((s) => s.setHubId);
  const files = useStudio((s) => s.modelFiles);
  const gguf = useStudio((s) => s.ggufFile);
  const setFiles = useStudio((s) => s.setModelFiles);
  const quant = useStudio((s) => s.quant);
  const setQuant = useStudio((s) => s.setQuant);
  const status = useStudio((s) => s.modelStatus);
  const progress = useStudio((s) => s.modelProgress);
  const error = useStudio((s) => s.modelError);
  const load = useStudio((s) => s.loadModel);
  const source = useStudio((s) => s.modelSource);
  const running = useStudio((s) => isActive(s.run.phase));
  const go = useStudio((s) => s.go);
  const loading = status === 'loading';
  const canLoad = !!source() && !loading && !running;

  return (
    <>
      <header className="screen-head">
        <h1>Model</h1>
        <p className="lede">Pick the base model the adapter is trained on. Supported families: {SUPPORTED_FAMILIES.map((f) => f.name).join('; ')}.</p>
      </header>
      <section className="card" aria-labelledby="model-h">
        <h2 id="model-h">Base model</h2>
        <div className="grid-2">
          <Select label="Model" value={choice} options={CHOICES} onChange={setChoice} disabled={loading} />
          <Select label="Quantization" value={quant} options={QUANT_OPTIONS} onChange={setQuant} disabled={loading} hint="How the frozen base weights are stored on the GPU; LoRA weights are always f32." />
        </div>
        {choice === 'demo' && (
          <p className="note">
            The <strong>tiny demo model</strong> has 2 layers and random weights around a real tokenizer. It loads instantly and its curves move, but it cannot translate: use it to try the studio, not to make an adapter.
          </p>
        )}
        {choice === 'hub' && (
          <>
            <TextInput label="Hub model id" value={hubId} onChange={setHubId} placeholder="owner/name" list="hub-models" hint="Downloaded from huggingface.co into this browser's cache; needs safetensors weights." />
            <HubToken />
            <datalist id="hub-models">
              {MODEL_CATALOG.filter((m) => m.id !== 'demo').map((m) => (
                <option key={m.id} value={m.id}>
                  {m.label}
                </option>
              ))}
            </datalist>
          </>
        )}
        {choice === 'files' && (
          <DropZone label="Model files" multiple directory buttonText="Choose a folder" onFiles={setFiles} disabled={loading}>
            <p>Drop a Hugging Face model folder here (config.json, tokenizer.json, *.safetensors), or a .gguf file.</p>
            {files.length > 0 && <p className="muted small">{files.length} files: {files.slice(0, 6).map((f) => f.name).join(', ')}{files.length > 6 ? '…' : ''}</p>}
          </DropZone>
        )}
        {choice === 'gguf' && (
          <DropZone label="GGUF file" accept=".gguf" buttonText="Choose a .gguf file" onFiles={setFiles} disabled={loading}>
            <p>Drop a GGUF checkpoint here. Its own quantization is kept where the engine supports it.</p>
            {gguf && <p className="muted small">{gguf.name} · {formatBytes(gguf.size)}</p>}
          </DropZone>
        )}
        {loading && <ProgressBar label={loadLabel(progress?.what)} value={progress?.loaded} max={progress?.total} detail={progress && progress.total > 0 ? loadDetail(progress, choice) : undefined} />}
        {error && (
          <p className="note error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          {/* Once a model is loaded, going on is the next step: loading again is the secondary choice. */}
          {status === 'ready' && (
            <button type="button" className="primary" onClick={() => go('data')}>
              Next: dataset
            </button>
          )}
          <button type="button" className={status === 'ready' ? 'secondary' : 'primary'} onClick={() => void load()} disabled={!canLoad}>
            {status === 'ready' ? 'Load again' : 'Load model'}
          </button>
        </div>
      </section>
      <Loaded />
    </>
  );
}
