// The Hub access token field, one for the session: the Model screen's Hub input and the Hub dataset inputs
// (Data screen, preference builder) show the same state, kept as lib/token.ts says.
import { useStudio } from '../store/context.tsx';
import { Field } from './fields.tsx';

/** An access token for gated repositories (Llama, Gemma, gated datasets): kept for this browser session unless asked. */
export function HubToken({ what = 'models (Llama, Gemma)' }: { what?: string }) {
  const token = useStudio((s) => s.hubToken);
  const remember = useStudio((s) => s.rememberHubToken);
  const setToken = useStudio((s) => s.setHubToken);
  return (
    <div className="grid-2">
      <Field label="Access token (optional)" hint={`For gated or private ${what}: a read token from huggingface.co/settings/tokens. Sent only to the Hub.`}>
        {({ id, describedBy }) => <input id={id} type="password" autoComplete="off" spellCheck={false} value={token} aria-describedby={describedBy} placeholder="hf_…" onChange={(e) => setToken(e.target.value, remember)} />}
      </Field>
      <label className="check align-end">
        <input type="checkbox" checked={remember} onChange={(e) => setToken(token, e.target.checked)} /> Remember on this device (otherwise kept until this tab closes)
      </label>
    </div>
  );
}
