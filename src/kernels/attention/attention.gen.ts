// The generated blocks of attention.wgsl ({{NAME}} lines there): register tiles unrolled over the vec4 slices
// n of a head (D4 = D/4 of them), the rows r of a row group and the keys c of a DKDV group. Registers are named
// scalars (q{r}_{n}, k{c}_{n}, ...): see src/kernels/unroll.ts for why. The tiled variant needs no generation.
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { block, list, range, unroll, XYZW } from '../unroll.ts';
import loopSrc from './attention.wgsl?raw';
import tiledSrc from './attention_tiled.wgsl?raw';

export type LoopKernel = 'FORWARD' | 'PREP' | 'DKDV' | 'DQ' | 'DQ_DS';

export type LoopDefines = {
  KERNEL: LoopKernel;
  /** Head width (a multiple of 4). */
  D: number;
  WG: number;
  /** Query rows per invocation of FORWARD and DQ_DS. */
  R: number;
  /**
   * FORWARD only: a row group's lanes (4, each holding D/16 of every row's vec4 slices), which sum their partial
   * scores by subgroupShuffleXor; 1: one lane holds whole rows.
   */
  LPR: 1 | 4;
  /** Keys per invocation of DKDV. */
  KPI: number;
  /** DKDV also stores dS (for DQ_DS). */
  STORE_DS: boolean;
};

/** D head width, a BQ x BK tile, TPR threads per row; SUBGROUPS: scores summed across a row's threads by subgroupShuffleXor. */
export type TiledDefines = { KERNEL: 'FORWARD' | 'DKDV' | 'DQ'; D: number; BQ: number; BK: number; TPR: number; SUBGROUPS: boolean };

export const attentionLoopShader = defineShader<LoopDefines>(
  'attention_loop',
  'attention.wgsl: KERNEL FORWARD|PREP|DKDV|DQ|DQ_DS, D head width, WG, R rows (FORWARD, DQ_DS), LPR lanes per row group (FORWARD), KPI keys (DKDV), STORE_DS',
  { KERNEL: 'FORWARD', D: 64, WG: 16, R: 8, LPR: 4, KPI: 4, STORE_DS: false },
  (d) => preprocess(loopSrc, { [d.KERNEL]: true, STORE_DS: d.STORE_DS, SUBGROUPS: d.LPR > 1, D4: d.D / 4, WG: d.WG, LPR: d.LPR, ...loopBlocks(d.D / 4, d.R, d.LPR, d.KPI) }),
);

export const attentionTiledShader = defineShader<TiledDefines>(
  'attention_tiled',
  'attention_tiled.wgsl: KERNEL FORWARD|DKDV|DQ, D head width, BQ x BK tile, TPR threads per row, SUBGROUPS (row sums by shuffles)',
  { KERNEL: 'FORWARD', D: 64, BQ: 32, BK: 32, TPR: 4, SUBGROUPS: false },
  (d) => preprocess(tiledSrc, { [d.KERNEL]: true, D: d.D, BQ: d.BQ, BK: d.BK, TPR: d.TPR, SUBGROUPS: d.SUBGROUPS }),
);

/** Every generated block of attention.wgsl, by placeholder name. */
function loopBlocks(D4: number, R: number, LPR: number, KPI: number): Record<string, string> {
  return { ...forwardBlocks(D4 / LPR, R, LPR), ...dkdvBlocks(D4, KPI), ...dqBlocks(D4), ...dqDsBlocks(D4, R), SKIP: skipBlock(R) };
}

/** [skLo, skHi): keys none of the R rows sees, between every row's first range and its second (kv{r} = vis_of). */
function skipBlock(R: number): string {
  const fold = (f: string, x: string) => range(R).map((r) => `kv${r}.${x}`).reduce((a, b) => `${f}(${a}, ${b})`);
  return unroll(1, () => [`let skLo = ${fold('max', 'y')};`, `let skHi = ${fold('min', 'z')};`]);
}

/**
 * FORWARD: R query rows (q{r}_{n} in registers, accumulators a{r}_{n}), four keys per step (k0..k3). Each of a row
 * group's LPR lanes holds DL = D4 / LPR vec4 slices of every row, from its lane's offset (qo, kbase), and the
 * lanes' partial scores are summed by a butterfly, so all of them hold every score.
 */
function forwardBlocks(DL: number, R: number, LPR: number): Record<string, string> {
  // Opens a block that loads slice n of the four keys' (or values') rows o0..o3 into k0..k3 (v0..v3).
  const load4 = (arr: 'k' | 'v', n: number) => `{ ${range(4).map((j) => `let ${arr}${j} = ${arr}[o${j} + ${n}u];`).join(' ')}`;
  return {
    R: `${R}`,
    RL: `${R - 1}`,
    F_ROWS: unroll(R, (r) => [
      `let t${r} = min(tf + ${r}u, p.Tq - 1u);`,
      `let kend${r} = min(p.Tk - p.Tq + t${r} + 1u, lenb);`,
      `let kv${r} = vis_of(t${r}, lenb, br);`,
      `let qo${r} = ((b * p.Tq + t${r}) * p.H + h) * D4 + lane * ${DL}u;`,
      `var m${r} = NEG;`,
      `var l${r} = 0.0;`,
      unroll(DL, (n) => [`let q${r}_${n} = q[qo${r} + ${n}u] * sc;`, `var a${r}_${n} = vec4<f32>(0.0);`]),
    ]),
    F_SZERO: unroll(R, (r) => `var x${r} = vec4<f32>(0.0);`),
    // Each key slice is loaded once and dotted with every row's slice.
    F_QK: unroll(DL, (n) => [
      load4('k', n),
      ...range(R).map((r) => `  x${r} += vec4<f32>(${list(4, (j) => `dot(q${r}_${n}, k${j})`)});`),
      '}',
    ]),
    // a + b == b + a exactly, so the lanes' sums agree bit for bit and each runs the same softmax.
    F_LANESUM: unroll(R, (r) => range(Math.log2(LPR)).map((i) => `x${r} += subgroupShuffleXor(x${r}, ${1 << i}u);`)),
    F_SOFTMAX: unroll(R, (r) => [
      `let s${r} = select(vec4<f32>(NEG), x${r}, vis4(jj, kv${r}));`,
      `let mx${r} = max(m${r}, max(max(s${r}.x, s${r}.y), max(s${r}.z, s${r}.w)));`,
      `let c${r} = exp(m${r} - mx${r});`,
      `let p${r} = exp(s${r} - vec4<f32>(mx${r}));`,
      `l${r} = l${r} * c${r} + dot(p${r}, vec4<f32>(1.0));`,
      `m${r} = mx${r};`,
    ]),
    F_PV: unroll(DL, (n) => [
      load4('v', n),
      ...range(R).map((r) => `  a${r}_${n} = a${r}_${n} * c${r} + ((p${r}.x * v0 + p${r}.y * v1) + (p${r}.z * v2 + p${r}.w * v3));`),
      '}',
    ]),
    F_OUT: unroll(R, (r) =>
      block(`if (tf + ${r}u < p.Tq)`, [
        `let inv = 1.0 / l${r};`,
        unroll(DL, (n) => `out[qo${r} + ${n}u] = a${r}_${n} * inv;`),
        `if (lane == 0u) { lse[(b * p.H + h) * p.Tq + t${r}] = m${r} + log(l${r}); }`,
      ]),
    ),
  };
}

/** DKDV: KPI keys per invocation, key c's slices in k{c}_{n}, v{c}_{n}, gradients dk{c}_{n}, dv{c}_{n}. */
function dkdvBlocks(D4: number, KPI: number): Record<string, string> {
  // One key: scalars (WGSL has no vec1), and its probability and dS are pr and ds themselves.
  const vk = (t: 'f32' | 'u32') => (KPI === 1 ? t : `vec${KPI}<${t}>`);
  return {
    KPI: `${KPI}`,
    VKF: vk('f32'),
    VKU: vk('u32'),
    KV_JJ: list(KPI, (c) => `ja + ${c}u`),
    KV_KO: unroll(KPI, (c) => `let ko${c} = ((b * p.kvStride + min(ja + ${c}u, jend - 1u)) * p.Hkv + g) * D4;`),
    KV_ZERO: unroll(D4, (n) => unroll(KPI, (c) => [`var dk${c}_${n} = vec4<f32>(0.0);`, `var dv${c}_${n} = vec4<f32>(0.0);`])),
    KV_LOAD: unroll(D4, (n) => unroll(KPI, (c) => [`let k${c}_${n} = k[ko${c} + ${n}u] * sc;`, `let v${c}_${n} = v[ko${c} + ${n}u];`])),
    KV_QLOAD: unroll(D4, (n) => [`let x${n} = q[qo + ${n}u];`, `let e${n} = dout[qo + ${n}u];`]),
    KV_QKDO: unroll(D4, (n) => [
      `sk += ${vk('f32')}(${list(KPI, (c) => `dot(x${n}, k${c}_${n})`)});`,
      `dpk += ${vk('f32')}(${list(KPI, (c) => `dot(e${n}, v${c}_${n})`)});`,
    ]),
    KV_ACC: unroll(D4, (n) => unroll(KPI, (c) => {
      const lane = KPI === 1 ? '' : `.${XYZW[c]}`;
      return [`dv${c}_${n} += pr${lane} * e${n};`, `dk${c}_${n} += ds${lane} * x${n};`];
    })),
    KV_OUT: unroll(KPI, (c) =>
      block(`if (ja + ${c}u < p.kvStride)`, unroll(D4, (n) => [
        `dk[koa + ${c}u * kstep + ${n}u] = dk${c}_${n} * p.scale;`,
        `dv[koa + ${c}u * kstep + ${n}u] = dv${c}_${n};`,
      ])),
    ),
  };
}

/** DQ: two query rows a, b per invocation; each key and value slice is loaded once and used by both rows. */
function dqBlocks(D4: number): Record<string, string> {
  return {
    Q2_LOAD: unroll(D4, (n) => [`let qa${n} = q[qa + ${n}u] * sc;`, `let qb${n} = q[qb + ${n}u] * sc;`]),
    E2_LOAD: unroll(D4, (n) => [`let ea${n} = dout[qa + ${n}u];`, `let eb${n} = dout[qb + ${n}u];`]),
    A2_ZERO: unroll(D4, (n) => [`var aa${n} = vec4<f32>(0.0);`, `var ab${n} = vec4<f32>(0.0);`]),
    QK2X2: unroll(D4, (n) => [
      `{ let k0 = k[o0 + ${n}u]; let k1 = k[o1 + ${n}u]; let v0 = v[o0 + ${n}u]; let v1 = v[o1 + ${n}u];`,
      `  sa += vec2<f32>(dot(qa${n}, k0), dot(qa${n}, k1));`,
      `  sb += vec2<f32>(dot(qb${n}, k0), dot(qb${n}, k1));`,
      `  pa += vec2<f32>(dot(ea${n}, v0), dot(ea${n}, v1));`,
      `  pb += vec2<f32>(dot(eb${n}, v0), dot(eb${n}, v1)); }`,
    ]),
    A2_DSK: unroll(D4, (n) => [
      `{ let k0 = k[o0 + ${n}u]; let k1 = k[o1 + ${n}u];`,
      `  aa${n} += dsa.x * k0 + dsa.y * k1;`,
      `  ab${n} += dsb.x * k0 + dsb.y * k1; }`,
    ]),
    A2_OUT_DQA: unroll(D4, (n) => `dq[qa + ${n}u] = aa${n} * sc;`),
    A2_OUT_DQB: unroll(D4, (n) => `dq[qb + ${n}u] = ab${n} * sc;`),
  };
}

/** DQ_DS: R query rows (accumulators a{r}_{n}) share each key slice of dq = scale · dS·K. */
function dqDsBlocks(D4: number, R: number): Record<string, string> {
  return {
    DS_ROWS: unroll(R, (r) => [
      `let t${r} = min(tf + ${r}u, p.Tq - 1u);`,
      `let kend${r} = min(p.Tk - p.Tq + t${r} + 1u, lenb);`,
      `let kv${r} = vis_of(t${r}, lenb, br);`,
      `let dso${r} = ((b * p.H + h) * p.Tq + t${r}) * ((p.Tk + 3u) / 4u * 4u);`,
      unroll(D4, (n) => `var a${r}_${n} = vec4<f32>(0.0);`),
    ]),
    // A row's entries past its own key count were never written: select drops them (no arithmetic on them).
    DS_LOAD: unroll(R, (r) => `let d${r} = select(0.0, dsb[dso${r} + j], vis1(j, kv${r}));`),
    DS_ACC: unroll(D4, (n) => [`{ let kv = k[o + ${n}u];`, ...range(R).map((r) => `  a${r}_${n} += d${r} * kv;`), '}']),
    DS_OUT: unroll(R, (r) =>
      block(`if (tf + ${r}u < p.Tq)`, [`let qo${r} = ((b * p.Tq + t${r}) * p.H + h) * D4;`, unroll(D4, (n) => `dq[qo${r} + ${n}u] = a${r}_${n} * p.scale;`)]),
    ),
  };
}
