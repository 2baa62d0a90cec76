// The check the studio runs before offering the web export for download: the exported model (web.ts layout)
// decodes a few tokens in onnxruntime-web, with its KV cache, fed the same tokens as the engine's decoder,
// and each step's logits are compared with the engine's. onnxruntime-web is passed in (the worker imports it
// and points it at its wasm files; tests use tests/onnx/ort.ts), so this module loads nothing itself.
import type * as Ort from 'onnxruntime-web';
import type { Decoder } from '../generate/decoder.ts';
import { argmax } from '../generate/sampling.ts';

export interface EngineTrace {
  /** The tokens fed after the prompt (the engine's greedy choices). */
  tokens: number[];
  /** (V) logits per step: after the prompt, then after each of tokens[0..n−2]. */
  logits: Float32Array[];
}

export interface WebCheckResult {
  steps: number;
  /** Largest |ORT − engine| over every step's logits. */
  maxAbsDiff: number;
  /** Largest |logit| of the engine's, the scale maxAbsDiff is read against. */
  maxAbsLogit: number;
  /** Steps where ORT's most likely token is the engine's. */
  argmaxAgree: number;
  ok: boolean;
}

/** The engine's greedy continuation of one prompt, keeping each step's logits (the decoder's adapter setting applies). */
export async function engineTrace(dec: Decoder, promptIds: number[], steps: number): Promise<EngineTrace> {
  dec.reserve({ slots: 1, maxLen: promptIds.length + steps, prefillRows: promptIds.length });
  const logits = [await dec.prefill([promptIds])];
  const tokens: number[] = [];
  for (let i = 0; i < steps; i++) {
    tokens.push(argmax(logits[i]));
    if (i + 1 < steps) logits.push(await dec.step([tokens[i]]));
  }
  return { tokens, logits };
}

const i64 = (ort: typeof Ort, v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), dims);

/**
 * Runs `model` (an onnx/model*.onnx of the web export) on the prompt and the engine's tokens, one token per
 * step after the prompt as transformers.js does, and compares logits. `ok` when every step's argmax agrees
 * (unless `requireArgmax` is false) and the largest difference is within `tolerance` × the largest engine
 * logit (default 1e-3; the fp32 export measured 8.5e-7 on the tiny model with max |logit| 0.53). The int8
 * file needs a looser tolerance (it measured 3.8e-2 there), and near-ties may swap.
 */
export async function checkWebExport(ort: typeof Ort, model: Uint8Array, promptIds: number[], trace: EngineTrace, opts: { tolerance?: number; requireArgmax?: boolean } = {}): Promise<WebCheckResult> {
  const session = await ort.InferenceSession.create(model);
  try {
    const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
    // (1, Hkv, 0, D) empty caches, shapes read from the model itself
    let past: Record<string, Ort.Tensor> = {};
    for (const n of pastNames) {
      const m = meta.get(n);
      const shape = m && m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : d === 'batch_size' ? 1 : 0)) : [];
      past[n] = new ort.Tensor('float32', new Float32Array(0), shape);
    }
    let fed = 0;
    let maxAbsDiff = 0;
    let maxAbsLogit = 0;
    let argmaxAgree = 0;
    for (let step = 0; step < trace.logits.length; step++) {
      const ids = step === 0 ? promptIds : [trace.tokens[step - 1]];
      const total = fed + ids.length;
      const out = await session.run({
        input_ids: i64(ort, ids, [1, ids.length]),
        attention_mask: i64(ort, new Array<number>(total).fill(1), [1, total]),
        position_ids: i64(ort, ids.map((_, i) => fed + i), [1, ids.length]),
        ...past,
      });
      fed = total;
      const all = out.logits.data as Float32Array; // (1, ids.length, V)
      const want = trace.logits[step];
      const V = want.length;
      const got = all.subarray(all.length - V);
      for (let v = 0; v < V; v++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[v] - want[v]));
        maxAbsLogit = Math.max(maxAbsLogit, Math.abs(want[v]));
      }
      if (argmax(got) === argmax(want)) argmaxAgree++;
      past = Object.fromEntries(pastNames.map((n) => [n, out[n.replace('past_key_values.', 'present.')]]));
    }
    const steps = trace.logits.length;
    const ok = (argmaxAgree === steps || opts.requireArgmax === false) && maxAbsDiff <= (opts.tolerance ?? 1e-3) * Math.max(1, maxAbsLogit);
    return { steps, maxAbsDiff, maxAbsLogit, argmaxAgree, ok };
  } finally {
    await session.release();
  }
}
