// The memory estimate drawn against a limit: one segment per part, the limit as the track.
import { fitOf, type Fit } from '../lib/memory.ts';
import { formatBytes } from '../lib/format.ts';

export interface Part {
  label: string;
  bytes: number;
  className: string;
}

const FIT_WORDS: Record<Fit, string> = { fits: 'fits', tight: 'tight', 'too-big': 'does not fit' };

export function MemoryBar({ label, parts, limit, limitLabel }: { label: string; parts: Part[]; limit: number; limitLabel: string }) {
  const total = parts.reduce((s, p) => s + p.bytes, 0);
  const fit = fitOf(total, limit);
  const scale = Math.max(total, limit) || 1;
  return (
    <div className={`membar fit-${fit}`}>
      <div className="membar-head">
        <span>{label}</span>
        <span>
          <strong>{formatBytes(total)}</strong> of {formatBytes(limit)} {limitLabel} · <span className="fit-word">{FIT_WORDS[fit]}</span>
        </span>
      </div>
      <div className="membar-track" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limit} aria-valuenow={total} aria-valuetext={`${formatBytes(total)} of ${formatBytes(limit)}, ${FIT_WORDS[fit]}`}>
        {parts.map((p) => (
          <div key={p.label} className={`membar-seg ${p.className}`} style={{ width: `${(100 * p.bytes) / scale}%` }} title={`${p.label}: ${formatBytes(p.bytes)}`} />
        ))}
        {total > limit && <div className="membar-limit" style={{ left: `${(100 * limit) / scale}%` }} aria-hidden="true" />}
      </div>
      {parts.length > 1 && (
        <ul className="membar-legend">
          {parts.map((p) => (
            <li key={p.label}>
              <span className={`swatch ${p.className}`} aria-hidden="true" />
              {p.label} {formatBytes(p.bytes)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
