// Leading + trailing throttle: the first call goes through, later ones within `ms` collapse into one call
// with the latest arguments at the end of the window, so the last value is never lost.

export interface Throttled<A extends unknown[]> {
  (...args: A): void;
  /** Runs a pending trailing call now (e.g. when a run ends, so the final numbers show). */
  flush(): void;
  cancel(): void;
}

export function throttle<A extends unknown[]>(fn: (...args: A) => void, ms: number, now: () => number = Date.now): Throttled<A> {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: A | null = null;

  const run = () => {
    timer = null;
    if (!pending) return;
    const args = pending;
    pending = null;
    last = now();
    fn(...args);
  };

  const t = ((...args: A) => {
    pending = args;
    const wait = last + ms - now();
    if (wait <= 0 && !timer) run();
    else if (!timer) timer = setTimeout(run, Math.max(0, wait));
  }) as Throttled<A>;
  t.flush = () => {
    if (timer) clearTimeout(timer);
    run();
  };
  t.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return t;
}
