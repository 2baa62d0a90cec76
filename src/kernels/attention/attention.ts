// Causal grouped-query self-attention (flash-attention style): forward saves only the log-sum-exp per query row;
// backward recomputes probabilities tile by tile. Two variants, chosen from ctx.caps:
//   'loop'  (attention.wgsl): a few rows per invocation in registers, no barriers: CPU rasterizers.
//   'tiled' (attention_tiled.wgsl): workgroup-shared Q/K/V tiles: real GPUs.
// Backward: PREP (D_i = dout_i . out_i, parked in dq), DKDV (per key row, summed over the group's query
// heads in a fixed order, so deterministic without float atomics), DQ (per query row). Given a dS scratch
// (the training workspace holds one when it is small), the loop variant's DKDV also stores dS and DQ_DS makes dq
// the single product dS·K, instead of DQ recomputing QKᵀ and dO·Vᵀ.
import type { Capabilities } from '../../gpu/caps.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { GpuError } from '../../gpu/errors.ts';
import type { Recorder } from '../../gpu/recorder.ts';
import { preprocess } from '../../gpu/wgsl.ts';
import { grid1d, params } from '../dispatch.ts';
import loopSrc from './attention.wgsl?raw';
import tiledSrc from './attention_tiled.wgsl?raw';

export interface AttnShape {
  B: number;
  Tq: number;
  Tk: number;
  H: number;
  Hkv: number;
  D: number;
  /** Rows per batch in the k/v buffers, default Tk (a KV cache has capacity >= Tk). */
  kvStride?: number;
  /**
   * Sliding window (Gemma 3's sliding layers): a query at position pos sees keys j > pos − window only. The
   * query's position is clamped to its sequence's last key (decoding: Tq = 1 at each slot's own length).
   * Only the loop variant implements it: a windowed call takes the loop kernels on every device.
   */
  window?: number;
}

export type AttnVariant = 'loop' | 'tiled';

/** Test hooks: force a variant or tile sizes instead of the ones ctx.caps implies. */
export const attentionOptions: { variant: AttnVariant | null; tiles: { BQ: number; BK: number } | null } = {
  variant: null,
  tiles: null,
};

// Small workgroups: decode has only B*H rows, and SwiftShader spreads workgroups, not invocations, over cores.
// A dispatch of few invocations (short sequences: DKDV at T = 16 has 16) gets workgroups of one SIMD group (4
// lanes), else it would run on one core: measured ~1.7x on DKDV at T = 16, H 14/2.
const loopWg = (invocations: number) => (invocations <= 256 ? 4 : 16);
// Query rows per invocation in the loop forward: each key load serves this many rows. At D = 64, 4 measured ~1.5x
// over 2, and 8 ~1.3x over 4 at T = 64 (~1.45x at T = 256), for a compile of ~10 s instead of ~4. Wider heads
// take 2: SwiftShader's compile time grows steeply with the live registers. Fewer rows than Tq would only repeat
// the last one (decoding has Tq = 1), so R is the largest power of two <= Tq.
const fwdRows = (D: number, Tq: number) => Math.min(D > 64 ? 2 : 8, 2 ** Math.floor(Math.log2(Math.max(1, Tq))));
// DQ_DS's rows per invocation: 8 measured only ~1.05x over 4, not worth the compile.
const dqRows = (D: number) => (D > 64 ? 2 : 4);
// DKDV's keys per invocation (see attention.wgsl). Wider heads keep 2, for the compile time.
const dkdvKeys = (D: number) => (D > 64 ? 2 : 4);
// Threads per row in the tiled kernels; each holds D/TPR accumulator values.
const TPR = 4;

export function attentionVariant(ctx: GpuContext, D = 64): AttnVariant {
  if (attentionOptions.variant) return attentionOptions.variant;
  if (ctx.caps.isCpu) return 'loop';
  // Heads too wide for the device's workgroup memory (D = 256 at 16 KiB) still run, barrier-free.
  const fits = (['fwd', 'dkdv', 'dq'] as const).every((kind) => attentionTiles(ctx.caps, kind, D));
  return fits ? 'tiled' : 'loop';
}

export type TiledKind = 'fwd' | 'dkdv' | 'dq';

/** Workgroup floats each tiled kernel needs (see the var<workgroup> declarations). */
function sharedFloats(kind: TiledKind, D: number, BQ: number, BK: number): number {
  if (kind === 'fwd') return BQ * D + 2 * BK * D + BQ * BK;
  if (kind === 'dq') return 2 * BQ * D + 2 * BK * D + BQ * BK;
  return 2 * BK * D + 2 * BQ * D + 2 * BQ + 2 * BK * BQ;
}

// Largest tiles first: bigger tiles mean fewer K/V reloads per query row.
const TILE_CHOICES: [number, number][] = [[32, 32], [32, 16], [16, 16], [16, 8], [8, 8], [8, 4], [4, 4]];

/** Tile sizes of a tiled kernel: the largest that fit the device's workgroup memory and invocation limits. */
export { sharedFloats as attentionSharedFloats };

export function attentionTiles(caps: Pick<Capabilities, 'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup'>, kind: TiledKind, D: number): { BQ: number; BK: number } | null {
  const bytes = caps.maxComputeWorkgroupStorageSize;
  const maxInv = caps.maxComputeInvocationsPerWorkgroup;
  for (const [a, b] of TILE_CHOICES) {
    // DKDV's rows are keys: its block is (BK rows, BQ queries streamed), the others' (BQ rows, BK keys).
    const [BQ, BK] = kind === 'dkdv' ? [b, a] : [a, b];
    const rows = kind === 'dkdv' ? BK : BQ;
    // + 4: the u32 that broadcasts the key bound.
    if (sharedFloats(kind, D, BQ, BK) * 4 + 4 <= bytes && rows * TPR <= maxInv) return { BQ, BK };
  }
  return null;
}

function tiles(ctx: GpuContext, kind: TiledKind, D: number): { BQ: number; BK: number } {
  const t = attentionOptions.tiles ?? attentionTiles(ctx.caps, kind, D);
  if (!t) throw new GpuError('unsupported', `attention D=${D} needs more workgroup memory than the device has`, `attention_${kind}`);
  return t;
}

function check(s: AttnShape, backward: boolean): number {
  // Backward needs nothing beyond forward's rules: Tq < Tk (a chunk after a cached prefix) works as well.
  const kvStride = s.kvStride ?? s.Tk;
  const why =
    s.D % 4 !== 0 || s.D > 256 ? `D=${s.D} must be a multiple of 4, at most 256`
    : s.H % s.Hkv !== 0 ? `Hkv=${s.Hkv} must divide H=${s.H}`
    : s.Tq > s.Tk ? `Tq=${s.Tq} exceeds Tk=${s.Tk}`
    : kvStride < s.Tk ? `kvStride=${kvStride} is below Tk=${s.Tk}`
    : s.window !== undefined && !(Number.isInteger(s.window) && s.window >= 0) ? `window=${s.window} must be a non-negative integer`
    : '';
  if (why) throw new GpuError('unsupported', why, backward ? 'attention_bwd' : 'attention_fwd', shapeStr(s));
  return kvStride;
}

function shapeStr(s: AttnShape): string {
  return `B=${s.B} Tq=${s.Tq} Tk=${s.Tk} H=${s.H} Hkv=${s.Hkv} D=${s.D} kvStride=${s.kvStride ?? s.Tk}${s.window ? ` window=${s.window}` : ''}`;
}

function uniforms(s: AttnShape, kvStride: number, lengths: GPUBuffer | null): ArrayBuffer {
  return params([s.B, s.Tq, s.Tk, s.H, s.Hkv, kvStride, lengths ? 1 : 0, { f32: 1 / Math.sqrt(s.D) }, s.window ?? 0]);
}

/** The variant a call runs: attentionVariant, except that a sliding window always takes the loop kernels. */
function variantOf(ctx: GpuContext, s: AttnShape): AttnVariant {
  return s.window ? 'loop' : attentionVariant(ctx, s.D);
}

/** The unrolled per-slice statements of attention.wgsl ({{...}} there): one line per vec4 slice N of a row. */
function loopSnippets(D4: number, R: number, KPI: number): Record<string, string> {
  const ns = [...Array(D4).keys()];
  const each = (f: (n: number) => string) => ns.map(f).join('\n  ');
  // DKDV: KPI keys per invocation, key c's slices in registers k{c}_{n}, v{c}_{n}, dk{c}_{n}, dv{c}_{n}.
  const C = [...Array(KPI).keys()];
  const comp = ['x', 'y', 'z', 'w'];
  const perKey = (f: (c: number) => string, sep: string) => C.map(f).join(sep);
  const snip: Record<string, string> = {
    KPI: `${KPI}`,
    VK: `vec${KPI}`,
    KV_JJ: perKey((c) => `ja + ${c}u`, ', '),
    KV_KO: perKey((c) => `let ko${c} = ((b * p.kvStride + min(ja + ${c}u, jend - 1u)) * p.Hkv + g) * D4;`, '\n    '),
    KV_ZERO: each((n) => perKey((c) => `var dk${c}_${n} = vec4<f32>(0.0);\n  var dv${c}_${n} = vec4<f32>(0.0);`, '\n  ')),
    KV_LOAD: each((n) => perKey((c) => `let k${c}_${n} = k[ko${c} + ${n}u] * sc;\n    let v${c}_${n} = v[ko${c} + ${n}u];`, '\n    ')),
    KV_QLOAD: each((n) => `let x${n} = q[qo + ${n}u];\n        let e${n} = dout[qo + ${n}u];`),
    KV_QKDO: each((n) =>
      `sk += vec${KPI}<f32>(${perKey((c) => `dot(x${n}, k${c}_${n})`, ', ')});\n        dpk += vec${KPI}<f32>(${perKey((c) => `dot(e${n}, v${c}_${n})`, ', ')});`),
    KV_ACC: each((n) => perKey((c) => `dv${c}_${n} += pr.${comp[c]} * e${n};\n        dk${c}_${n} += ds.${comp[c]} * x${n};`, '\n        ')),
    KV_OUT: perKey((c) =>
      [`if (ja + ${c}u < p.kvStride) {`,
       ...ns.map((n) => `  dk[koa + ${c}u * kstep + ${n}u] = dk${c}_${n} * p.scale;\n    dv[koa + ${c}u * kstep + ${n}u] = dv${c}_${n};`),
       '}'].join('\n    '), '\n  '),
  };
  Object.assign(snip, {
    Q2_LOAD: each((n) => `let qa${n} = q[qa + ${n}u] * sc;\n  let qb${n} = q[qb + ${n}u] * sc;`),
    A2_ZERO: each((n) => `var aa${n} = vec4<f32>(0.0);\n  var ab${n} = vec4<f32>(0.0);`),
    E2_LOAD: each((n) => `let ea${n} = dout[qa + ${n}u];\n  let eb${n} = dout[qb + ${n}u];`),
    A2_DSK: each((n) =>
      [`{ let k0 = k[o0 + ${n}u]; let k1 = k[o1 + ${n}u];`,
       `      aa${n} += dsa.x * k0 + dsa.y * k1;`,
       `      ab${n} += dsb.x * k0 + dsb.y * k1; }`].join('\n')),
    A2_OUT_DQA: each((n) => `dq[qa + ${n}u] = aa${n} * sc;`),
    A2_OUT_DQB: each((n) => `dq[qb + ${n}u] = ab${n} * sc;`),
  });
  // Each key (and value) slice is loaded once and dotted with both rows' slices.
  snip.QK2X2 = each((n) =>
    [`{ let k0 = k[o0 + ${n}u]; let k1 = k[o1 + ${n}u]; let v0 = v[o0 + ${n}u]; let v1 = v[o1 + ${n}u];`,
     `      sa += vec2<f32>(dot(qa${n}, k0), dot(qa${n}, k1));`,
     `      sb += vec2<f32>(dot(qb${n}, k0), dot(qb${n}, k1));`,
     `      pa += vec2<f32>(dot(ea${n}, v0), dot(ea${n}, v1));`,
     `      pb += vec2<f32>(dot(eb${n}, v0), dot(eb${n}, v1)); }`].join('\n'));
  const rows = [...Array(R).keys()];
  Object.assign(snip, {
    DS_ROWS: rows.map((r) =>
      [`let t${r} = min(tf + ${r}u, p.Tq - 1u);`,
       `let kend${r} = min(p.Tk - p.Tq + t${r} + 1u, lenb);`,
       `let kbeg${r} = kbeg_of(t${r}, lenb);`,
       `let dso${r} = ((b * p.H + h) * p.Tq + t${r}) * ((p.Tk + 3u) / 4u * 4u);`,
       ...ns.map((n) => `var a${r}_${n} = vec4<f32>(0.0);`)].join('\n  ')).join('\n  '),
    // A row's entries past its own key count were never written: select drops them (no arithmetic on them).
    DS_LOAD: rows.map((r) => `let d${r} = select(0.0, dsb[dso${r} + j], j < kend${r} && j >= kbeg${r});`).join('\n    '),
    DS_ACC: each((n) => [`{ let kv = k[o + ${n}u];`, ...rows.map((r) => `  a${r}_${n} += d${r} * kv;`), '}'].join('\n    ')).replaceAll('\n  ', '\n    '),
    DS_OUT: rows.map((r) =>
      [`if (tf + ${r}u < p.Tq) {`,
       `  let qo${r} = ((b * p.Tq + t${r}) * p.H + h) * D4;`,
       ...ns.map((n) => `  dq[qo${r} + ${n}u] = a${r}_${n} * p.scale;`),
       '}'].join('\n  ')).join('\n  '),
  });
  const perRow = (f: (r: number) => string, sep = '\n  ') => rows.map(f).join(sep);
  Object.assign(snip, {
    R: `${R}`,
    RL: `${R - 1}`,
    F_ROWS: perRow((r) =>
      [`let t${r} = min(tf + ${r}u, p.Tq - 1u);`,
       `let kend${r} = min(p.Tk - p.Tq + t${r} + 1u, lenb);`,
       `let kbeg${r} = kbeg_of(t${r}, lenb);`,
       `let qo${r} = ((b * p.Tq + t${r}) * p.H + h) * D4;`,
       `var m${r} = NEG;`,
       `var l${r} = 0.0;`,
       ...ns.map((n) => `let q${r}_${n} = q[qo${r} + ${n}u] * sc;\n  var a${r}_${n} = vec4<f32>(0.0);`)].join('\n  ')),
    F_SZERO: perRow((r) => `var x${r} = vec4<f32>(0.0);`, '\n    '),
    F_QK: each((n) =>
      [`{ let k0 = k[o0 + ${n}u]; let k1 = k[o1 + ${n}u]; let k2 = k[o2 + ${n}u]; let k3 = k[o3 + ${n}u];`,
       ...rows.map((r) => `  x${r} += vec4<f32>(dot(q${r}_${n}, k0), dot(q${r}_${n}, k1), dot(q${r}_${n}, k2), dot(q${r}_${n}, k3));`),
       '}'].join('\n    ')).replaceAll('\n  ', '\n    '),
    F_SOFTMAX: perRow((r) =>
      [`let s${r} = select(vec4<f32>(NEG), x${r}, (jj < vec4<u32>(kend${r})) & (jj >= vec4<u32>(kbeg${r})));`,
       `let mx${r} = max(m${r}, max(max(s${r}.x, s${r}.y), max(s${r}.z, s${r}.w)));`,
       `let c${r} = exp(m${r} - mx${r});`,
       `let p${r} = exp(s${r} - vec4<f32>(mx${r}));`,
       `l${r} = l${r} * c${r} + dot(p${r}, vec4<f32>(1.0));`,
       `m${r} = mx${r};`].join('\n    '), '\n    '),
    F_PV: each((n) =>
      [`{ let v0 = v[o0 + ${n}u]; let v1 = v[o1 + ${n}u]; let v2 = v[o2 + ${n}u]; let v3 = v[o3 + ${n}u];`,
       ...rows.map((r) => `  a${r}_${n} = a${r}_${n} * c${r} + ((p${r}.x * v0 + p${r}.y * v1) + (p${r}.z * v2 + p${r}.w * v3));`),
       '}'].join('\n    ')).replaceAll('\n  ', '\n    '),
    F_OUT: perRow((r) =>
      [`if (tf + ${r}u < p.Tq) {`,
       `  let inv = 1.0 / l${r};`,
       ...ns.map((n) => `  out[qo${r} + ${n}u] = a${r}_${n} * inv;`),
       `  lse[(b * p.H + h) * p.Tq + t${r}] = m${r} + log(l${r});`,
       '}'].join('\n  ')),
  });
  return snip;
}

type LoopKernel = 'FORWARD' | 'PREP' | 'DKDV' | 'DQ' | 'DQ_DS';

// R: rows per invocation of FORWARD and DQ_DS (1 for the others, which do not read it).
function loopPipe(ctx: GpuContext, kernel: LoopKernel, D: number, wg: number, R: number, storeDs: boolean) {
  return ctx.pipeline(`attention_loop_${kernel}_D${D}_WG${wg}_R${R}_K${dkdvKeys(D)}${storeDs ? '_ds' : ''}`, () =>
    preprocess(loopSrc, { [kernel]: true, STORE_DS: storeDs, D4: D / 4, WG: wg, ...loopSnippets(D / 4, R, dkdvKeys(D)) }),
  );
}

/** A loop kernel's pipeline and grid for `n` invocations. */
function loopDispatch(ctx: GpuContext, kernel: LoopKernel, D: number, n: number, R = 1, storeDs = false) {
  const wg = loopWg(n);
  return { pipeline: loopPipe(ctx, kernel, D, wg, R, storeDs), workgroups: grid1d(ctx, n, wg) };
}

/** Largest dS scratch worth holding: past it the backward recomputes instead (a long-context batch). */
export const ATTN_DS_MAX_BYTES = 64 << 20;

/** Whether attentionBackward at this shape would use a dS scratch (loop variant, and the scratch is small). */
export function attentionUsesDs(ctx: GpuContext, s: AttnShape): boolean {
  const bytes = attentionDsBytes(s);
  return variantOf(ctx, s) === 'loop' && bytes <= Math.min(ATTN_DS_MAX_BYTES, ctx.caps.maxStorageBufferBindingSize);
}

/** Bytes of the dS scratch attentionBackward can use: (B, H, Tq, Tk4) f32, rows padded to a multiple of 4. */
export function attentionDsBytes(s: AttnShape): number {
  return s.B * s.H * s.Tq * Math.ceil(s.Tk / 4) * 4 * 4;
}

function tiledPipe(ctx: GpuContext, kernel: 'FORWARD' | 'DKDV' | 'DQ', D: number, BQ: number, BK: number) {
  return ctx.pipeline(`attention_tiled_${kernel}_D${D}_BQ${BQ}_BK${BK}_TPR${TPR}`, () =>
    preprocess(tiledSrc, { [kernel]: true, D, BQ, BK, TPR }),
  );
}

/**
 * out = softmax(q k^T / sqrt(D) + causal/padding mask) v per head; lse = the row log-sum-exp, saved for backward.
 * Query t of batch b sits at position Tk - Tq + t; key j is visible iff j <= position and j < lengths[b].
 */
export function attentionForward(
  rec: Recorder,
  out: GPUBuffer, // (B*Tq, H*D) f32
  lse: GPUBuffer, // (B, H, Tq) f32
  q: GPUBuffer, // (B*Tq, H*D) f32
  k: GPUBuffer, // (B*kvStride, Hkv*D) f32
  v: GPUBuffer, // (B*kvStride, Hkv*D) f32
  lengths: GPUBuffer | null, // (B) u32 valid keys per sequence; null = all Tk
  s: AttnShape,
): void {
  const ctx = rec.ctx;
  const kvStride = check(s, false);
  // Without lengths the shader never reads that binding, but WebGPU wants one: q stands in.
  const len = lengths ?? q;
  const shapes = shapeStr(s);
  if (variantOf(ctx, s) === 'loop') {
    rec.dispatch({
      kernel: 'attention_fwd', shapes, params: uniforms(s, kvStride, lengths), buffers: [out, lse, q, k, v, len],
      ...loopDispatch(ctx, 'FORWARD', s.D, s.B * s.H * Math.ceil(s.Tq / fwdRows(s.D, s.Tq)), fwdRows(s.D, s.Tq)),
    });
    return;
  }
  const { BQ, BK } = tiles(ctx, 'fwd', s.D);
  rec.dispatch({
    kernel: 'attention_fwd', shapes: `${shapes} BQ=${BQ} BK=${BK}`, pipeline: tiledPipe(ctx, 'FORWARD', s.D, BQ, BK),
    params: uniforms(s, kvStride, lengths), buffers: [out, lse, q, k, v, len], workgroups: [Math.ceil(s.Tq / BQ), s.H, s.B],
  });
}

/**
 * Gradients of attentionForward (training has Tq == Tk == T; Tq < Tk also works). dq, dk, dv are overwritten; dk/dv sum the H/Hkv query heads
 * of each group, and rows of keys no query sees (past lengths[b], or past Tk up to kvStride) are zero.
 */
export function attentionBackward(
  rec: Recorder,
  dq: GPUBuffer, // (B*T, H*D) f32
  dk: GPUBuffer, // (B*kvStride, Hkv*D) f32
  dv: GPUBuffer, // (B*kvStride, Hkv*D) f32
  dout: GPUBuffer, // (B*T, H*D) f32
  q: GPUBuffer, // (B*T, H*D) f32
  k: GPUBuffer, // (B*kvStride, Hkv*D) f32
  v: GPUBuffer, // (B*kvStride, Hkv*D) f32
  out: GPUBuffer, // (B*T, H*D) f32 forward output
  lse: GPUBuffer, // (B, H, T) f32 saved by forward
  lengths: GPUBuffer | null, // (B) u32
  s: AttnShape,
  dsScratch: GPUBuffer | null = null, // (B, H, Tq, Tk4) f32, attentionDsBytes(s): lets the loop variant skip DQ's recompute
): void {
  const ctx = rec.ctx;
  const kvStride = check(s, true);
  const len = lengths ?? q;
  const shapes = shapeStr(s);
  const u = uniforms(s, kvStride, lengths);
  rec.dispatch({
    kernel: 'attention_bwd_prep', shapes, params: u, buffers: [dq, dout, out],
    ...loopDispatch(ctx, 'PREP', s.D, s.B * s.Tq * s.H),
  });
  if (variantOf(ctx, s) === 'loop') {
    // With room for dS, DKDV (which computes it anyway) stores it and dq is one product: 5 products in all
    // instead of 7 (measured ~1.3x on the whole backward at T = 256).
    const ds = dsScratch && dsScratch.size >= attentionDsBytes(s) ? dsScratch : null;
    rec.dispatch({
      kernel: 'attention_bwd_dkdv', shapes, params: u, buffers: ds ? [dk, dv, dq, dout, q, k, v, lse, len, ds] : [dk, dv, dq, dout, q, k, v, lse, len],
      ...loopDispatch(ctx, 'DKDV', s.D, s.B * s.Hkv * Math.ceil(kvStride / dkdvKeys(s.D)), 1, !!ds),
    });
    if (ds) {
      rec.dispatch({
        kernel: 'attention_bwd_dq_ds', shapes, params: u, buffers: [dq, k, ds, len],
        ...loopDispatch(ctx, 'DQ_DS', s.D, s.B * s.H * Math.ceil(s.Tq / dqRows(s.D)), dqRows(s.D)),
      });
      return;
    }
    rec.dispatch({
      kernel: 'attention_bwd_dq', shapes, params: u, buffers: [dq, dout, q, k, v, lse, len],
      ...loopDispatch(ctx, 'DQ', s.D, s.B * s.H * Math.ceil(s.Tq / 2)),
    });
    return;
  }
  const kv = tiles(ctx, 'dkdv', s.D);
  rec.dispatch({
    kernel: 'attention_bwd_dkdv', shapes: `${shapes} BQ=${kv.BQ} BK=${kv.BK}`, pipeline: tiledPipe(ctx, 'DKDV', s.D, kv.BQ, kv.BK),
    params: u, buffers: [dk, dv, dq, dout, q, k, v, lse, len], workgroups: [Math.ceil(kvStride / kv.BK), s.Hkv, s.B],
  });
  const qt = tiles(ctx, 'dq', s.D);
  rec.dispatch({
    kernel: 'attention_bwd_dq', shapes: `${shapes} BQ=${qt.BQ} BK=${qt.BK}`, pipeline: tiledPipe(ctx, 'DQ', s.D, qt.BQ, qt.BK),
    params: u, buffers: [dq, dout, q, k, v, lse, len], workgroups: [Math.ceil(s.Tq / qt.BQ), s.H, s.B],
  });
}
