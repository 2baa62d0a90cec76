// float64 reference for attention.wgsl / attention_tiled.wgsl: causal grouped-query attention with a padding mask,
// an optional sliding window and an optional branch layout (a shared prompt, then two branches: see AttnShape.branch).
// Layouts as in attention.ts: q, out (B*Tq, H*D); k, v (B*kvStride, Hkv*D); lse (B, H, Tq); lengths (B) or null,
// (3B) with a branch layout.
import type { AttnShape } from './attention.ts';

/** Keys [0, end) are visible to query t of batch b (end >= 1: key 0 is always visible). */
export function visibleEnd(s: AttnShape, lengths: ArrayLike<number> | null, b: number, t: number): number {
  const len = lengths ? Math.min(lengths[b], s.Tk) : s.Tk;
  return Math.max(1, Math.min(s.Tk - s.Tq + t + 1, len));
}

/**
 * First key visible to query t of batch b: 0, or with a sliding window (s.window = W) the first of the last W
 * positions up to the query's own (key j > pos − W), pos clamped to the sequence's last key.
 */
export function visibleStart(s: AttnShape, lengths: ArrayLike<number> | null, b: number, t: number): number {
  if (!s.window) return 0;
  const pos = visibleEnd(s, lengths, b, t) - 1;
  return Math.max(0, pos + 1 - s.window);
}

/**
 * The keys query t of batch b sees, as two ranges [a0, a1) ∪ [b0, b1). Without a branch layout the second is empty.
 * With one (s.branch: lengths holds lengths, then promptLen, then branchStart, B each), a query at or past its
 * sequence's branchStart sees the shared prompt [0, promptLen) and its own branch [branchStart, t], never the first
 * branch between them; its position (RoPE's, and the window's) is t − (branchStart − promptLen).
 */
export function visibleKeys(s: AttnShape, lengths: ArrayLike<number> | null, b: number, t: number): [number, number, number, number] {
  const end = visibleEnd(s, lengths, b, t);
  if (s.branch && lengths) {
    const pl = lengths[s.B + b];
    const bs = lengths[2 * s.B + b];
    const tt = end - 1; // the query's index, clamped to its sequence's last key as the window clamps it
    if (tt >= bs) {
      const pos1 = end - (bs - pl); // its position + 1
      const w = s.window ?? 0;
      return [w ? Math.max(0, pos1 - w) : 0, pl, w ? Math.max(bs, end - w) : bs, end];
    }
  }
  return [visibleStart(s, lengths, b, t), end, end, end];
}

/** Softmax row of query (b, h, t) over its visible keys, scores scaled by 1/sqrt(D). */
function probs(q: ArrayLike<number>, k: ArrayLike<number>, s: AttnShape, lengths: ArrayLike<number> | null, b: number, h: number, t: number) {
  const { Tq, H, Hkv, D } = s;
  const kvs = s.kvStride ?? s.Tk;
  const g = Math.floor(h / (H / Hkv));
  const scale = 1 / Math.sqrt(D);
  const [a0, a1, b0, end] = visibleKeys(s, lengths, b, t);
  const keys = [];
  for (let j = a0; j < a1; j++) keys.push(j);
  for (let j = b0; j < end; j++) keys.push(j);
  const qo = ((b * Tq + t) * H + h) * D;
  const sc = new Float64Array(end); // entries of keys not seen stay 0: probability 0
  let m = -Infinity;
  for (const j of keys) {
    const ko = ((b * kvs + j) * Hkv + g) * D;
    let acc = 0;
    for (let d = 0; d < D; d++) acc += q[qo + d] * k[ko + d];
    sc[j] = acc * scale;
    m = Math.max(m, sc[j]);
  }
  let l = 0;
  for (const j of keys) l += Math.exp(sc[j] - m);
  for (const j of keys) sc[j] = Math.exp(sc[j] - m) / l;
  return { p: sc, lse: m + Math.log(l), end, g, qo, scale };
}

export function attentionForwardRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, lengths: ArrayLike<number> | null, s: AttnShape) {
  const { B, Tq, H, Hkv, D } = s;
  const kvs = s.kvStride ?? s.Tk;
  const out = new Float64Array(B * Tq * H * D); // (B*Tq, H*D)
  const lse = new Float64Array(B * H * Tq); // (B, H, Tq)
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < Tq; t++) {
        const r = probs(q, k, s, lengths, b, h, t);
        lse[(b * H + h) * Tq + t] = r.lse;
        for (let j = 0; j < r.end; j++) {
          const vo = ((b * kvs + j) * Hkv + r.g) * D;
          for (let d = 0; d < D; d++) out[r.qo + d] += r.p[j] * v[vo + d];
        }
      }
  return { out, lse };
}

/** Gradients of sum(dout * out); dk, dv are (B*kvStride, Hkv*D) with zero rows for keys nobody sees. */
export function attentionBackwardRef(dout: ArrayLike<number>, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, lengths: ArrayLike<number> | null, s: AttnShape) {
  const { B, Tq, H, Hkv, D } = s;
  const kvs = s.kvStride ?? s.Tk;
  const dq = new Float64Array(B * Tq * H * D); // (B*Tq, H*D)
  const dk = new Float64Array(B * kvs * Hkv * D); // (B*kvStride, Hkv*D)
  const dv = new Float64Array(B * kvs * Hkv * D); // (B*kvStride, Hkv*D)
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < Tq; t++) {
        const r = probs(q, k, s, lengths, b, h, t);
        // dp_j = dout . v_j; ds_j = p_j (dp_j - sum_i p_i dp_i)
        const dp = new Float64Array(r.end);
        let mean = 0;
        for (let j = 0; j < r.end; j++) {
          const vo = ((b * kvs + j) * Hkv + r.g) * D;
          for (let d = 0; d < D; d++) dp[j] += dout[r.qo + d] * v[vo + d];
          mean += r.p[j] * dp[j];
        }
        for (let j = 0; j < r.end; j++) {
          const ko = ((b * kvs + j) * Hkv + r.g) * D;
          const ds = r.p[j] * (dp[j] - mean) * r.scale;
          for (let d = 0; d < D; d++) {
            dq[r.qo + d] += ds * k[ko + d];
            dk[ko + d] += ds * q[r.qo + d];
            dv[ko + d] += r.p[j] * dout[r.qo + d];
          }
        }
      }
  return { dq, dk, dv };
}
