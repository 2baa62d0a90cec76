// A labelled progress bar; indeterminate when the total is unknown.
interface Props {
  label: string;
  value?: number;
  max?: number;
  detail?: string;
}

export function ProgressBar({ label, value, max, detail }: Props) {
  const known = value !== undefined && max !== undefined && max > 0;
  const pct = known ? Math.min(100, (100 * value!) / max!) : 0;
  return (
    <div className="progress">
      <div className="progress-head">
        <span>{label}</span>
        {detail && <span className="muted">{detail}</span>}
      </div>
      <div
        className={`progress-track${known ? '' : ' indeterminate'}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={known ? max : undefined}
        aria-valuenow={known ? value : undefined}
        aria-valuetext={detail}
      >
        <div className="progress-fill" style={{ width: known ? `${pct}%` : undefined }} />
      </div>
    </div>
  );
}
