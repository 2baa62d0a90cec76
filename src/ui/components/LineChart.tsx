// A small canvas line chart bound to one series of the series store. It redraws on requestAnimationFrame
// when the series changes, the canvas resizes or the cursor moves: React renders it once per mount.
import { useEffect, useRef } from 'react';
import { formatNumber } from '../lib/format.ts';
import { decimate, ema, nearestIndex, niceTicks, tickFormatter, type SeriesStore } from '../lib/series.ts';

interface Props {
  series: SeriesStore;
  metric: string;
  title: string;
  /** Shown under the title: what a good curve does. */
  hint?: string;
  format?: (v: number) => string;
  /** Pin the y range (e.g. [0, 1] for accuracies). */
  yDomain?: [number, number];
  /** EMA weight in [0, 1): the smoothed line is drawn over the raw one, which stays faint behind it. */
  smoothing?: number;
  /** A series drawn as dots on the same axes: the held-out evaluations of this metric. */
  evalMetric?: string;
}

const PAD = { left: 48, right: 10, top: 8, bottom: 22 };

const defaultFormat = (v: number) => formatNumber(v, 4);

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

export function LineChart({ series, metric, title, hint, format: custom, yDomain, smoothing = 0, evalMetric }: Props) {
  const format = custom ?? defaultFormat;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const readoutRef = useRef<HTMLSpanElement>(null);
  const descRef = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    const canvas = canvasRef.current!;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    let frame = 0;
    let hoverX: number | null = null; // css px within the canvas
    let keyIndex: number | null = null; // keyboard cursor, an index into the full series
    let drawnVersion = -1;
    let width = 0;
    let height = 0;

    const draw = () => {
      frame = 0;
      const dpr = globalThis.devicePixelRatio || 1;
      const rect = canvas.getBoundingClientRect();
      if (rect.width !== width || rect.height !== height) {
        width = rect.width;
        height = rect.height;
        canvas.width = Math.max(1, Math.round(width * dpr));
        canvas.height = Math.max(1, Math.round(height * dpr));
      }
      drawnVersion = series.version;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      const text = cssVar(canvas, '--chart-text', '#555');
      const grid = cssVar(canvas, '--chart-grid', '#e5e5e5');
      const line = cssVar(canvas, '--chart-line', '#2563eb');
      ctx.font = '11px system-ui, sans-serif';

      const full = series.get(metric);
      const n = full.x.length;
      const last = n ? full.y[n - 1] : undefined;
      if (readoutRef.current) readoutRef.current.textContent = last === undefined ? '—' : format(last);
      if (descRef.current) {
        const ev = evalMetric ? series.get(evalMetric) : null;
        const evalText = ev?.y.length ? ` ${ev.y.length} eval point${ev.y.length === 1 ? '' : 's'}, latest ${format(ev.y[ev.y.length - 1])} at step ${ev.x[ev.x.length - 1]}.` : '';
        descRef.current.textContent = n ? `${title}: ${n} points up to step ${full.x[n - 1]}, latest ${format(last!)}.${evalText}` : `${title}: no data yet.`;
      }
      const plotW = width - PAD.left - PAD.right;
      const plotH = height - PAD.top - PAD.bottom;
      if (n === 0 || plotW <= 0 || plotH <= 0) {
        ctx.fillStyle = text;
        ctx.textAlign = 'center';
        ctx.fillText('waiting for the first step', width / 2, height / 2);
        return;
      }
      const s = decimate(full, Math.floor(plotW));
      // Smoothed over every point, then reduced: smoothing the reduced series would weigh buckets, not steps.
      const smooth = smoothing > 0 ? decimate(ema(full, smoothing), Math.floor(plotW)) : null;
      const evals = evalMetric ? series.get(evalMetric) : null;
      let y0 = yDomain?.[0] ?? Infinity;
      let y1 = yDomain?.[1] ?? -Infinity;
      if (!yDomain) {
        for (const v of [...s.y, ...(evals?.y ?? [])]) {
          if (v < y0) y0 = v;
          if (v > y1) y1 = v;
        }
        const padY = (y1 - y0) * 0.08 || Math.abs(y0) * 0.1 || 1;
        y0 -= padY;
        y1 += padY;
      }
      const x0 = full.x[0];
      const x1 = Math.max(full.x[n - 1], x0 + 1);
      const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
      const py = (y: number) => PAD.top + (1 - (y - y0) / (y1 - y0)) * plotH;

      ctx.strokeStyle = grid;
      ctx.fillStyle = text;
      ctx.lineWidth = 1;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      const yTicks = niceTicks(y0, y1, 4);
      const tickLabel = custom ?? tickFormatter(yTicks);
      for (const t of yTicks) {
        const y = Math.round(py(t)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(PAD.left, y);
        ctx.lineTo(PAD.left + plotW, y);
        ctx.stroke();
        // A label at the bottom edge is lifted half a line, clear of the "step" axis name below it.
        ctx.fillText(tickLabel(t), PAD.left - 6, Math.min(y, PAD.top + plotH - 5));
      }
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (const t of niceTicks(x0, x1, Math.max(2, Math.floor(plotW / 80)))) {
        if (!Number.isInteger(t)) continue;
        ctx.fillText(String(t), px(t), PAD.top + plotH + 5);
      }
      // The x-axis name sits under the y labels, where no tick label can collide with it.
      ctx.textAlign = 'right';
      ctx.fillText('step', PAD.left - 6, PAD.top + plotH + 5);

      const stroke = (pts: { x: readonly number[]; y: readonly number[] }, alpha: number) => {
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = line;
        ctx.lineWidth = 1.5;
        ctx.lineJoin = 'round';
        ctx.beginPath();
        for (let i = 0; i < pts.x.length; i++) {
          const X = px(pts.x[i]);
          const Y = py(pts.y[i]);
          if (i === 0) ctx.moveTo(X, Y);
          else ctx.lineTo(X, Y);
        }
        ctx.stroke();
        ctx.globalAlpha = 1;
      };
      // The raw line stays, faint, behind the smoothed one: smoothing must not hide a spike.
      stroke(s, smooth ? 0.25 : 1);
      if (smooth) stroke(smooth, 1);
      if (evals?.x.length) {
        ctx.fillStyle = cssVar(canvas, '--chart-eval', '#d9480f');
        for (let i = 0; i < evals.x.length; i++) {
          if (evals.x[i] < x0 || evals.x[i] > x1) continue;
          ctx.beginPath();
          ctx.arc(px(evals.x[i]), py(evals.y[i]), 3.5, 0, Math.PI * 2);
          ctx.fill();
        }
      }
      if (s.x.length === 1) {
        ctx.fillStyle = line;
        ctx.beginPath();
        ctx.arc(px(s.x[0]), py(s.y[0]), 2.5, 0, Math.PI * 2);
        ctx.fill();
      }

      let idx: number | null = null;
      if (keyIndex !== null) idx = Math.min(keyIndex, n - 1);
      else if (hoverX !== null) idx = nearestIndex(full.x, x0 + ((hoverX - PAD.left) / plotW) * (x1 - x0));
      if (idx !== null && idx >= 0) {
        const X = px(full.x[idx]);
        const Y = py(full.y[idx]);
        ctx.strokeStyle = text;
        ctx.lineWidth = 1;
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(X, PAD.top);
        ctx.lineTo(X, PAD.top + plotH);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = line;
        ctx.beginPath();
        ctx.arc(X, Y, 3.5, 0, Math.PI * 2);
        ctx.fill();
        const label = `step ${full.x[idx]}: ${format(full.y[idx])}`;
        const w = ctx.measureText(label).width + 10;
        const bx = Math.min(Math.max(X - w / 2, PAD.left), PAD.left + plotW - w);
        const by = Y - PAD.top > 26 ? Y - 24 : Y + 8;
        ctx.fillStyle = cssVar(canvas, '--chart-tip-bg', 'rgba(20,20,20,0.85)');
        ctx.fillRect(bx, by, w, 18);
        ctx.fillStyle = cssVar(canvas, '--chart-tip-text', '#fff');
        ctx.textAlign = 'left';
        ctx.textBaseline = 'middle';
        ctx.fillText(label, bx + 5, by + 9);
        if (readoutRef.current) readoutRef.current.textContent = label;
      }
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(draw);
    };
    const unsub = series.subscribe(() => {
      if (series.version !== drawnVersion) schedule();
    });
    const ro = new ResizeObserver(schedule);
    ro.observe(canvas);
    const onMove = (e: PointerEvent) => {
      hoverX = e.clientX - canvas.getBoundingClientRect().left;
      keyIndex = null;
      schedule();
    };
    const onLeave = () => {
      hoverX = null;
      schedule();
    };
    const onKey = (e: KeyboardEvent) => {
      const n = series.get(metric).x.length;
      if (!n) return;
      const step = e.shiftKey ? 10 : 1;
      if (e.key === 'ArrowLeft') keyIndex = Math.max(0, (keyIndex ?? n) - step);
      else if (e.key === 'ArrowRight') keyIndex = Math.min(n - 1, (keyIndex ?? n - 1) + step);
      else if (e.key === 'Home') keyIndex = 0;
      else if (e.key === 'End') keyIndex = n - 1;
      else if (e.key === 'Escape') keyIndex = null;
      else return;
      e.preventDefault();
      schedule();
    };
    const onBlur = () => {
      keyIndex = null;
      schedule();
    };
    canvas.addEventListener('pointermove', onMove);
    canvas.addEventListener('pointerleave', onLeave);
    canvas.addEventListener('keydown', onKey);
    canvas.addEventListener('blur', onBlur);
    schedule();
    return () => {
      unsub();
      ro.disconnect();
      cancelAnimationFrame(frame);
      canvas.removeEventListener('pointermove', onMove);
      canvas.removeEventListener('pointerleave', onLeave);
      canvas.removeEventListener('keydown', onKey);
      canvas.removeEventListener('blur', onBlur);
    };
  }, [series, metric, title, format, yDomain, smoothing, evalMetric]);

  const id = `chart-${metric.replace(/\W/g, '-')}`;
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title" id={`${id}-title`}>
          {title}
        </span>
        <span className="chart-value" ref={readoutRef} aria-live="off">
          —
        </span>
      </figcaption>
      {hint && <p className="chart-hint">{hint}</p>}
      {evalMetric && (
        <p className="chart-legend" aria-hidden="true">
          <span className="eval-dot" /> eval (held-out)
        </p>
      )}
      <canvas
        ref={canvasRef}
        className="chart-canvas"
        tabIndex={0}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
      />
      <p className="visually-hidden" id={`${id}-desc`} ref={descRef} />
    </figure>
  );
}
