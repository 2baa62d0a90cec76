// Labelled form controls with inline errors wired through aria-describedby / aria-invalid.
import { useId, type ReactNode } from 'react';

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}

export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, describedBy, invalid: !!error })}
      {hint && !error && (
        <span className="field-hint" id={hintId}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={errId} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** A one-line text box in a Field: NumberInput (a decimal keyboard, validated as text by the store) and TextInput. */
function LineInput(props: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: string; placeholder?: string; disabled?: boolean; list?: string; inputMode?: 'decimal' }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          type="text"
          inputMode={props.inputMode}
          value={props.value}
          placeholder={props.placeholder}
          disabled={props.disabled}
          list={props.list}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

export function NumberInput(props: { label: string; value: string; onChange: (raw: string) => void; error?: string; hint?: string; step?: number; min?: number; max?: number; disabled?: boolean }) {
  return <LineInput label={props.label} value={props.value} onChange={props.onChange} error={props.error} hint={props.hint} disabled={props.disabled} inputMode="decimal" />;
}

export function Select<T extends string>(props: { label: string; value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; error?: string; hint?: string; disabled?: boolean }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {({ id, describedBy, invalid }) => (
        <select id={id} value={props.value} disabled={props.disabled} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(e) => props.onChange(e.target.value as T)}>
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function TextInput(props: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: string; placeholder?: string; disabled?: boolean; list?: string }) {
  return <LineInput {...props} />;
}
