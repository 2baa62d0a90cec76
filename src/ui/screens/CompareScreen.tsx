// Compare: one source sentence through the base model and through an adapter, side by side.
import { useEffect } from 'react';
import { Field, Select, TextInput } from '../components/fields.tsx';
import { useStudio } from '../store/context.tsx';
import { isActive } from '../store/selectors.ts';

const EXAMPLES = [
  { src: 'de', tgt: 'en', text: 'Die Katze schläft auf dem warmen Fensterbrett, während draußen der Regen fällt.' },
  { src: 'cs', tgt: 'en', text: 'Zítra ráno pojedeme vlakem do Brna navštívit babičku.' },
  { src: 'en', tgt: 'de', text: 'The committee postponed its decision until more data is available.' },
  { src: 'zh', tgt: 'en', text: '这家餐厅的菜很好吃，但是服务有点慢。' },
  { src: 'ru', tgt: 'en', text: 'Мы долго спорили, но в итоге договорились о встрече в пятницу.' },
  { src: 'is', tgt: 'en', text: 'Veðrið var svo gott að við fórum í langan göngutúr.' },
];

export function CompareScreen() {
  const source = useStudio((s) => s.compareSource);
  const srcLang = useStudio((s) => s.srcLang);
  const tgtLang = useStudio((s) => s.tgtLang);
  const runId = useStudio((s) => s.compareRunId);
  const status = useStudio((s) => s.compareStatus);
  const result = useStudio((s) => s.compareResult);
  const error = useStudio((s) => s.compareError);
  const setCompare = useStudio((s) => s.setCompare);
  const translate = useStudio((s) => s.translate);
  const runs = useStudio((s) => s.runs);
  const modelReady = useStudio((s) => s.modelStatus === 'ready');
  const training = useStudio((s) => isActive(s.run.phase));
  const usable = runs.filter((r) => r.step > 0);
  useEffect(() => {
    if (!runId && usable.length) setCompare({ compareRunId: usable[0].id });
  }, [runId, usable, setCompare]);

  return (
    <>
      <header className="screen-head">
        <h1>Compare</h1>
        <p className="lede">Translate one sentence with the base model and with a trained adapter.</p>
      </header>
      <section className="card" aria-labelledby="cmp-h">
        <h2 id="cmp-h">Source</h2>
        {status === 'unsupported' && (
          <p className="note warn" role="status">
            The engine cannot translate yet ({error}). This screen will work once generation lands in the engine.
          </p>
        )}
        <div className="grid-3">
          <Select
            label="Example"
            value=""
            options={[{ value: '', label: '— pick an example —' }, ...EXAMPLES.map((e, i) => ({ value: String(i), label: `${e.src}→${e.tgt}: ${e.text.slice(0, 40)}…` }))]}
            onChange={(v) => {
              const e = EXAMPLES[Number(v)];
              if (e) setCompare({ compareSource: e.text, srcLang: e.src, tgtLang: e.tgt });
            }}
          />
          <TextInput label="Source language" value={srcLang} onChange={(v) => setCompare({ srcLang: v.trim() })} hint="ISO code, e.g. de" />
          <TextInput label="Target language" value={tgtLang} onChange={(v) => setCompare({ tgtLang: v.trim() })} hint="ISO code, e.g. en" />
        </div>
        <Field label="Source sentence">
          {({ id }) => <textarea id={id} rows={3} value={source} onChange={(e) => setCompare({ compareSource: e.target.value })} />}
        </Field>
        <div className="grid-2">
          <Select
            label="Adapter"
            value={runId ?? ''}
            options={usable.length ? usable.map((r) => ({ value: r.id, label: `${r.name} (step ${r.step})` })) : [{ value: '', label: 'no trained runs yet' }]}
            onChange={(v) => setCompare({ compareRunId: v || null })}
          />
        </div>
        <div className="actions">
          <button type="button" disabled={!source.trim() || !runId || !modelReady || training || status === 'running'} onClick={() => void translate()}>
            {status === 'running' ? 'Translating…' : 'Translate'}
          </button>
          {!modelReady && <span className="muted small">Load the base model first.</span>}
          {training && <span className="muted small">Wait for the run to pause or finish: both share the GPU.</span>}
        </div>
        {status === 'error' && (
          <p className="note error" role="alert">
            {error}
          </p>
        )}
      </section>
      {result && (
        <section className="compare-grid" aria-label="Translations">
          {([['Base model', result.base], ['With adapter', result.adapter]] as const).map(([title, text]) => (
            <article key={title} className="card">
              <h2>{title}</h2>
              <p className="translation" lang={tgtLang}>
                {text}
              </p>
            </article>
          ))}
        </section>
      )}
    </>
  );
}
