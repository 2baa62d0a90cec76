// The whole model in float64 on the CPU, composed from the kernels' references: the oracle for
// whole-model gradient checks (central differences of its loss against the GPU's LoRA gradients).
// Only for tiny models: every matmul is a triple loop.
import { attentionForwardRef } from '../kernels/attention/attention.ref.ts';
import { embeddingForwardRef } from '../kernels/embedding/embedding.ref.ts';
import { outputHeadForwardRef } from '../kernels/head/head.ref.ts';
import { loraForwardRef } from '../kernels/lora/lora.ref.ts';
import { matmulForwardRef } from '../kernels/matmul/matmul.ref.ts';
import { rmsnormForwardRef } from '../kernels/rmsnorm/rmsnorm.ref.ts';
import { ropeInvFreq } from '../util/rope-freqs.ts';
import { ropeRef } from '../kernels/rope/rope.ref.ts';
import { swigluForwardRef } from '../kernels/swiglu/swiglu.ref.ts';
import type { SequenceBatch } from './batch.ts';
import type { ModelConfig, Projection } from './config.ts';
import { dropoutSeed } from './transformer.ts';

export interface RefWeights {
  embed: Float64Array; // (V, C) as the GPU dequantizes it
  lmHead: Float64Array; // (V, C)
  finalNorm: Float64Array; // (C)
  layers: { attnNorm: Float64Array; mlpNorm: Float64Array; proj: Record<Projection, Float64Array>; bias: Partial<Record<Projection, Float64Array>> }[];
}

export interface RefLora {
  R: number;
  scale: number;
  dropout: number;
  /** [layer][proj] → A (R, K), B (N, R); absent where not targeted. */
  modules: Partial<Record<Projection, { A: Float64Array; B: Float64Array; N: number; K: number }>>[];
}

/** Per-sequence Σ log p over completion tokens, and per-position log p, for one laid-out batch (either layout). */
export function referenceForward(c: ModelConfig, w: RefWeights, lora: RefLora | null, batch: SequenceBatch, dropout: number | null = null) {
  const { M, T, nSeq, rowSeqs } = batch;
  const sh = batch.shared;
  const lengths = sh ? [...batch.lengths, ...sh.promptLen, ...sh.branchStart] : batch.lengths;
  const positions = sh?.positions;
  const invFreq = ropeInvFreq(c.D, c.ropeTheta, c.ropeScaling);
  let x = embeddingForwardRef(w.embed, batch.ids, c.V, c.C);
  const project = (l: number, p: Projection, inp: Float64Array, N: number, K: number) => {
    let y = matmulForwardRef(inp, w.layers[l].proj[p], M, N, K, w.layers[l].bias[p]);
    const m = lora?.modules[l][p];
    if (m && lora) {
      const d = lora.dropout > 0 && dropout !== null ? { p: lora.dropout, seed: dropoutSeed(dropout, l, p) } : undefined;
      y = loraForwardRef(y, inp, m.A, m.B, M, N, K, lora.R, lora.scale, d).y;
    }
    return y;
  };
  const QD = c.H * c.D;
  const KD = c.Hkv * c.D;
  for (let l = 0; l < c.L; l++) {
    const lw = w.layers[l];
    const xn = rmsnormForwardRef(x, lw.attnNorm, M, c.C, c.eps).y;
    const q = ropeRef(project(l, 'q_proj', xn, QD, c.C), invFreq, M, T, c.H, c.D, 0, false, positions);
    const k = ropeRef(project(l, 'k_proj', xn, KD, c.C), invFreq, M, T, c.Hkv, c.D, 0, false, positions);
    const v = project(l, 'v_proj', xn, KD, c.C);
    const att = attentionForwardRef(q, k, v, lengths, { B: rowSeqs, Tq: T, Tk: T, H: c.H, Hkv: c.Hkv, D: c.D, branch: !!sh }).out;
    const o = project(l, 'o_proj', att, c.C, QD);
    const x2 = x.map((xi, i) => xi + o[i]);
    const xn2 = rmsnormForwardRef(x2, lw.mlpNorm, M, c.C, c.eps).y;
    const a = swigluForwardRef(project(l, 'gate_proj', xn2, c.F, c.C), project(l, 'up_proj', xn2, c.F, c.C));
    const d = project(l, 'down_proj', a, c.C, c.F);
    x = x2.map((xi, i) => xi + d[i]);
  }
  const h = rmsnormForwardRef(x, w.finalNorm, M, c.C, c.eps).y;
  const { logp } = outputHeadForwardRef(h, batch.rows, batch.labels, w.lmHead, c.V, c.C);
  const seqLogp = new Float64Array(nSeq);
  for (let s = 0; s < nSeq; s++) for (let i = batch.offsets[s]; i < batch.offsets[s + 1]; i++) seqLogp[s] += logp[i];
  return { seqLogp, logp };
}

