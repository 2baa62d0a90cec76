// Comparison helpers: element-wise |a - ref| <= atol + rtol*|ref|, reporting the worst offender,
// and central finite differences for checking the float64 references' gradients.
import { expect } from 'vitest';

export function expectClose(actual: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number, what = 'value'): void {
  expect(actual.length, `${what}: length`).toBe(ref.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = actual[i];
    const r = ref[i];
    const tol = atol + rtol * Math.abs(r);
    const err = Math.abs(a - r);
    if (!(err <= tol)) {
      const excess = Number.isFinite(err) ? err / tol : Infinity;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    let bad = 0;
    for (let i = 0; i < ref.length; i++) if (!(Math.abs(actual[i] - ref[i]) <= atol + rtol * Math.abs(ref[i]))) bad++;
    expect.fail(`${what}: ${bad}/${ref.length} elements off; worst [${worst}] got ${actual[worst]}, want ${ref[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * d f / d x[i] by central differences, for a scalar function of a float64 vector.
 * Checks `indices` (all by default) and returns the numeric gradient at them.
 */
export function numericGrad(f: (x: Float64Array) => number, x: Float64Array, indices?: number[], eps = 1e-5): Float64Array {
  const idx = indices ?? [...x.keys()];
  const g = new Float64Array(idx.length);
  idx.forEach((i, n) => {
    const keep = x[i];
    x[i] = keep + eps;
    const fp = f(x);
    x[i] = keep - eps;
    const fm = f(x);
    x[i] = keep;
    g[n] = (fp - fm) / (2 * eps);
  });
  return g;
}

/** A random linear functional w·y turns a vector-valued op into a scalar for gradient checks. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function toF64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}
