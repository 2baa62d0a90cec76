// Where a step's GPU time goes, per kernel: with a profiler set on the context (ctx.profiler), every dispatch of
// every submit runs in a compute pass of its own between two timestamps (the timestamp-query feature), and the
// nanoseconds are summed under the dispatch's kernel name. One pass per dispatch adds a little time of its own,
// so a profiled step runs slower than an unprofiled one: the shares, not the total, are the figure to read.

/** GPU nanoseconds and dispatch counts per kernel name, summed over every profiled submit. */
export class KernelProfiler {
  private readonly rows = new Map<string, { ns: number; dispatches: number }>();

  add(kernel: string, ns: number): void {
    const r = this.rows.get(kernel) ?? { ns: 0, dispatches: 0 };
    r.ns += ns;
    r.dispatches++;
    this.rows.set(kernel, r);
  }

  /** Rows by GPU time, largest first, with each one's share of the total. */
  entries(): { kernel: string; ms: number; dispatches: number; share: number }[] {
    const total = [...this.rows.values()].reduce((s, r) => s + r.ns, 0);
    return [...this.rows]
      .map(([kernel, r]) => ({ kernel, ms: r.ns / 1e6, dispatches: r.dispatches, share: total ? r.ns / total : 0 }))
      .sort((a, b) => b.ms - a.ms);
  }

  /** The rows as an aligned text table, ending with the total. */
  table(): string {
    const rows = this.entries();
    const total = rows.reduce((s, r) => s + r.ms, 0);
    const width = Math.max(6, ...rows.map((r) => r.kernel.length));
    const line = (k: string, n: string, ms: string, pct: string) => `${k.padEnd(width)}  ${n.padStart(10)}  ${ms.padStart(11)}  ${pct.padStart(6)}`;
    return [
      line('kernel', 'dispatches', 'GPU ms', 'share'),
      ...rows.map((r) => line(r.kernel, String(r.dispatches), r.ms.toFixed(2), `${(100 * r.share).toFixed(1)}%`)),
      line('total', String(rows.reduce((s, r) => s + r.dispatches, 0)), total.toFixed(2), '100%'),
    ].join('\n');
  }
}
