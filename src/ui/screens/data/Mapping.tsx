// The column mapping, asked for when the data layer does not recognise a file's layout.
import { Select, TextInput } from '../../components/fields.tsx';
import { useStudio } from '../../store/context.tsx';

export function Mapping() {
  const columns = useStudio((s) => s.columns);
  const settings = useStudio((s) => s.dataSettings);
  const setSettings = useStudio((s) => s.setDataSettings);
  const load = useStudio((s) => s.loadDataset);
  const m = settings.mapping ?? {};
  const kind = m.source !== undefined ? 'source' : 'prompt';
  const set = (patch: Record<string, string>) => {
    const next = { ...m, ...patch };
    for (const k of Object.keys(next)) if (!next[k]) delete next[k];
    setSettings({ mapping: next, format: 'mapping' });
  };
  const opts = [{ value: '', label: '— pick a column —' }, ...columns.map((c) => ({ value: c, label: c }))];
  const ready = !!(m.chosen && m.rejected && (m.prompt || m.source));
  return (
    <section className="card" aria-labelledby="map-h">
      <h2 id="map-h">Column mapping</h2>
      <p>The layout of this file was not recognised. Say which columns hold the prompt (or the source sentence to translate), the chosen and the rejected answer.</p>
      {columns.length === 0 && <p className="muted small">No column names could be read from the file head; type them instead.</p>}
      <div className="grid-3">
        <Select
          label="Prompt column holds"
          value={kind}
          options={[
            { value: 'prompt', label: 'a ready prompt' },
            { value: 'source', label: 'a source sentence (translation prompt)' },
          ]}
          onChange={(v) => {
            const col = m.prompt ?? m.source ?? '';
            const next = { ...m };
            delete next.prompt;
            delete next.source;
            setSettings({ mapping: { ...next, [v]: col }, format: 'mapping' });
          }}
        />
        {(['prompt', 'chosen', 'rejected'] as const).map((k) => {
          const key = k === 'prompt' ? kind : k;
          const label = k === 'prompt' ? (kind === 'source' ? 'Source column' : 'Prompt column') : k === 'chosen' ? 'Chosen column' : 'Rejected column';
          return columns.length ? (
            <Select key={k} label={label} value={m[key] ?? ''} options={opts} onChange={(v) => set({ [key]: v })} />
          ) : (
            <TextInput key={k} label={label} value={m[key] ?? ''} onChange={(v) => set({ [key]: v })} />
          );
        })}
        {kind === 'source' && <TextInput label="Language pair" value={m.langPair ?? ''} placeholder="de-en" onChange={(v) => set({ langPair: v })} hint="Source-target codes for every row." />}
      </div>
      <div className="actions">
        <button type="button" disabled={!ready} onClick={() => void load()}>
          Read with this mapping
        </button>
      </div>
    </section>
  );
}
