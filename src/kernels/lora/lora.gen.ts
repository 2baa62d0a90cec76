// The generated blocks of lora.wgsl ({{NAME}} lines there): the SHORT kernel's R x SC values of Rr and the tile
// kernel's TA x TB accumulators, unrolled as named registers (see src/kernels/unroll.ts).
import { defineShader, preprocess } from '../../gpu/wgsl.ts';
import { list, range, unroll, XYZW } from '../unroll.ts';
import src from './lora.wgsl?raw';

export type LoraDefines = {
  /** 'TILE': the strided register-tile product; 'SHORT': a product over R with Rr in registers; 'DROP_X'. */
  KERNEL: 'TILE' | 'SHORT' | 'DROP_X';
  WG: number;
  /** TILE: the reduction is split across the workgroup. */
  SPLIT: boolean;
  ACCUM: boolean;
  /** Apply the dropout mask to the output (dx). */
  DROP_OUT: boolean;
  /** TILE: rows x columns of the register tile (multiples of 4); SHORT: R in TA (TB unused, 0). */
  TA: number;
  TB: number;
};

export const loraShader = defineShader<LoraDefines>(
  'lora',
  'lora.wgsl: KERNEL TILE|SHORT|DROP_X, WG, SPLIT, ACCUM, DROP_OUT, TA x TB tile (TILE) or TA = R (SHORT)',
  { KERNEL: 'TILE', WG: 64, SPLIT: false, ACCUM: false, DROP_OUT: false, TA: 8, TB: 8 },
  (d) => {
    if (d.KERNEL === 'DROP_X') return preprocess(src, { WG: d.WG, DROP_X: true });
    const common = { WG: d.WG, ACCUM: d.ACCUM, DROP_OUT: d.DROP_OUT };
    if (d.KERNEL === 'SHORT') return preprocess(src, { ...common, SHORT: true, ...shortBlocks(d.TA) });
    return preprocess(src, { ...common, SPLIT: d.SPLIT, ...tileBlocks(d.TA, d.TB) });
  },
);

/**
 * Columns per SHORT invocation (SC/4 vec4 groups g): 8 measured ~1.3x over 4 at 64x896->4864, each L load
 * feeding twice the FMAs.
 */
export const SHORT_COLS = 8;

/** SHORT: Rr's R x SC values rv{t}_{g}, then each row's R terms in two interleaved sums e{g}, f{g} per group. */
function shortBlocks(R: number): Record<string, string> {
  const G = SHORT_COLS / 4;
  const col = (g: number, k: number) => 16 * g + 4 * k;
  return {
    SC: `${SHORT_COLS}`,
    SC4: `${4 * SHORT_COLS}`,
    RC_DECL: unroll(G, (g) => `let rc${g} = vec4<u32>(${list(4, (k) => `min(c + ${col(g, k)}u, last_b)`)}) * p.rb;`),
    RV_DECL: unroll(R, (t) => unroll(G, (g) => `let rv${t}_${g} = vec4<f32>(${list(4, (k) => `r[rc${g}.${XYZW[k]} + ${t}u * p.rt]`)});`)),
    ROW_BODY: [
      unroll(G, (g) => [`var e${g} = vec4<f32>(0.0);`, `var f${g} = vec4<f32>(0.0);`]),
      unroll(R, (t) => [`let l${t} = l[lo + ${t}u * p.lt];`, ...range(G).map((g) => `${t % 2 ? 'f' : 'e'}${g} += l${t} * rv${t}_${g};`)]),
    ].join('\n'),
    ROW_STORE: unroll(G, (g) => [
      `let v${g} = (e${g} + f${g}) * p.scale;`,
      ...range(4).map((k) => `if (c + ${col(g, k)}u < p.n_b) { store(o + ${col(g, k)}u, v${g}.${XYZW[k]}); }`),
    ]),
  };
}

/** TILE: a TA x TB tile, accumulators acc{g}_{h}_{i} (rows a0 + 4g + i, columns b0 + 4h .. + 3). */
function tileBlocks(ta: number, tb: number): Record<string, string> {
  const G = range(ta / 4);
  const H = range(tb / 4);
  const accs = G.flatMap((g) => H.flatMap((h) => range(4).map((i) => `acc${g}_${h}_${i}`)));
  const idx = (base: string, last: string, stride: string, k: number) => `vec4<u32>(${list(4, (i) => `min(${base} + ${4 * k + i}u, ${last})`)}) * ${stride}`;
  const load = (arr: string, j: string) => `vec4<f32>(${list(4, (c) => `${arr}[${j}.${XYZW[c]}]`)})`;
  return {
    TA: `${ta}`,
    TB: `${tb}`,
    NACC: `${accs.length}`,
    IDX_DECL: [unroll(G, (g) => `let ia${g} = ${idx('a0', 'last_a', 'p.la', g)};`), unroll(H, (h) => `let ib${h} = ${idx('b0', 'last_b', 'p.rb', h)};`)].join('\n'),
    ACC_DECL: accs.map((a) => `var ${a} = vec4<f32>(0.0);`).join('\n'),
    LOOP_BODY: [
      unroll(G, (g) => [`let jl${g} = ia${g} + vec4<u32>(t * p.lt);`, `let lv${g} = ${load('l', `jl${g}`)};`]),
      unroll(H, (h) => [`let jr${h} = ib${h} + vec4<u32>(t * p.rt);`, `let rv${h} = ${load('r', `jr${h}`)};`]),
      unroll(G, (g) => unroll(H, (h) => range(4).map((i) => `acc${g}_${h}_${i} += lv${g}.${XYZW[i]} * rv${h};`))),
    ].join('\n'),
    PART_STORE: accs.map((a, j) => `part[lid * ${accs.length}u + ${j}u] = ${a};`).join('\n'),
    PART_SUM: accs.map((a, j) => `${a} += part[q + ${j}u];`).join('\n'),
    STORE: unroll(G, (g) => unroll(H, (h) => range(4).map((i) => `store_row(a0 + ${4 * g + i}u, b0 + ${4 * h}u, acc${g}_${h}_${i});`))),
  };
}
