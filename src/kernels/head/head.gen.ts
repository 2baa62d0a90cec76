// The generated blocks of head.wgsl ({{NAME}} lines there): register tiles of SB positions i x (VPT/4 vec4s of
// logits | CG groups q of 8 columns of C), unrolled as named registers (see src/kernels/unroll.ts).
// With VPT 8 the second vec4 of position i is b{i}, from the second weight matrix (wm2, lo2/hi2, bl2).
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import type { WeightType } from '../quant/formats.ts';
import { weightDefines, weightLoaderSource } from '../quant/weights.ts';
import { block, range, unroll, unroll2 } from '../unroll.ts';
import src from './head.wgsl?raw';

export type HeadPartDefines = {
  /** 'fwd': log-softmax statistics only (FWD_PART); 'grad': the training forward, also Σ softmax·W (GRAD_PART). */
  PASS: 'fwd' | 'grad';
  TYPE: WeightType;
  /** Threads per workgroup. */
  WG: number;
  /** Positions per workgroup. */
  SB: number;
  /** Groups of 8 columns per thread in the training forward's Σ softmax·W accumulator (0 in 'fwd'). */
  CG: number;
  /** Vocab rows per thread: 4 or 8. */
  VPT: number;
};

export const headPartShader = defineShader<HeadPartDefines>(
  'head_part',
  'head.wgsl partial pass: PASS fwd|grad, TYPE f32|f16|q8_0|q4_0, WG threads, SB positions, CG column groups (grad), VPT 4|8',
  { PASS: 'fwd', TYPE: 'q8_0', WG: 128, SB: 16, CG: 0, VPT: 8 },
  (d) =>
    preprocess(`${weightLoaderSource}\n${src}`, {
      ...weightDefines(d.TYPE),
      [d.PASS === 'fwd' ? 'FWD_PART' : 'GRAD_PART']: true,
      PART: true,
      WG: d.WG,
      SB: d.SB,
      VPT: d.VPT,
      ROWS8: d.VPT === 8,
      ...headBlocks(d.SB, d.CG, d.VPT),
    }),
);

const COMBINE = { fwd: 'FWD_COMBINE', grad: 'GRAD_COMBINE', bwd: 'BWD' } as const;

export const headCombineShader = defineShader<{ PASS: keyof typeof COMBINE }>(
  'head_combine',
  'head.wgsl one-thread-per-element passes: PASS fwd (log-softmax), grad (∂logp/∂h), bwd (dh)',
  { PASS: 'fwd' },
  // The tile constants are unused by these passes but must be defined for the shared header.
  (d) => preprocess(src, { [COMBINE[d.PASS]]: true, WG: 64, SB: 1, VPT: 4 }),
);

function headBlocks(sb: number, cg: number, vpt: number): Record<string, string> {
  const two = vpt === 8;
  const g = (q: number) => `(t + ${q}u * WG)`;
  return {
    HB_DECL: unroll(sb, (i) => `let hb${i} = rows[min(s0 + ${i}u, p.S - 1u)] * C4;`),
    ACC_DECL: unroll(sb, (i) => `var a${i} = vec4<f32>(0.0);${two ? ` var b${i} = vec4<f32>(0.0);` : ''}`),
    ACC_STEP: unroll(sb, (i) => (two ? `{ let hv = h[hb${i} + k4]; a${i} += hv * wm; b${i} += hv * wm2; }` : `a${i} += h[hb${i} + k4] * wm;`)),
    SACC_DECL: unroll(sb, (i) => `var s${i} = vec4<f32>(0.0);${two ? ` var u${i} = vec4<f32>(0.0);` : ''}`),
    SACC_Q8: unroll(sb, (i) => (two ? `{ let hv = h[hb${i} + k4]; s${i} += hv * wm; u${i} += hv * wm2; }` : `s${i} += h[hb${i} + k4] * wm;`)),
    SACC_Q4: unroll(sb, (i) =>
      two
        ? `{ let ha = h[hb${i} + k4]; let hb = h[hb${i} + k4 + 4u]; s${i} += ha * lo + hb * hi; u${i} += ha * lo2 + hb * hi2; }`
        : `s${i} += h[hb${i} + k4] * lo + h[hb${i} + k4 + 4u] * hi;`),
    SACC_FOLD: unroll(sb, (i) => `a${i} += s${i} * bl.d;${two ? ` b${i} += u${i} * bl2.d;` : ''}`),
    ACC_LIST: [...range(sb).map((i) => `a${i}`), ...(two ? range(sb).map((i) => `b${i}`) : [])].join(', '),
    BACC_DECL: unroll2(sb, cg, (i, q) => [`var b${i}_${q} = vec4<f32>(0.0);`, `var c${i}_${q} = vec4<f32>(0.0);`]),
    BACC_STEP: [
      unroll(Math.ceil(sb / 4), (k) => `let pq${k} = pw[r * SBQ + ${k}u];`),
      unroll(sb, (i) => `let pv${i} = pq${i >> 2}[${i & 3}];`),
      unroll(cg, (q) =>
        block(`if (${g(q)} < C8)`, [
          `let w8 = w_load8c(row, ${g(q)} * 8u, p.C);`,
          unroll(sb, (i) => [`b${i}_${q} += pv${i} * w8.a;`, `c${i}_${q} += pv${i} * w8.b;`]),
        ]),
      ),
    ].join('\n'),
    BACC_RESCALE: unroll2(sb, cg, (i, q) => `b${i}_${q} *= sc[${i}u]; c${i}_${q} *= sc[${i}u];`),
    BACC_STORE: unroll2(sb, cg, (i, q) =>
      block(`if (s0 + ${i}u < p.S && ${g(q)} < C8)`, [
        `let o = e_base(p.S, p.nTotal) + ((p.base + sp) * p.S + s0 + ${i}u) * C4 + ${g(q)} * 2u;`,
        `part[o] = b${i}_${q};`,
        `if (${g(q)} * 2u + 1u < C4) { part[o + 1u] = c${i}_${q}; }`,
      ]),
    ),
    LABEL_ROW: unroll2(sb, cg, (i, q) =>
      block(`if (s0 + ${i}u < p.S && lab[${i}u] >= lo && lab[${i}u] < hi && ${g(q)} < C8)`, [
        `let w8 = w_load8c(lab[${i}u] - p.vStart, ${g(q)} * 8u, p.C);`,
        `let o = (s0 + ${i}u) * C4 + ${g(q)} * 2u;`,
        `dir[o] = w8.a;`,
        `if (${g(q)} * 2u + 1u < C4) { dir[o + 1u] = w8.b; }`,
      ]),
    ),
  };
}
