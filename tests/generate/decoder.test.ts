// KV-cache decoding on the golden tiny Llama, at the token-id level: the cache against recomputing the whole
// sequence, the prefill against the training forward, and batching against decoding each prompt alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { generate, type Generated } from '../../src/generate/generate.ts';
import { argmax, tokenLogp } from '../../src/generate/sampling.ts';
import { releaseLora, type Lora } from '../../src/model/lora.ts';
import { releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { expectClose } from '../util/check.ts';
import { gpu } from '../util/gpu.ts';
import { goldenModel } from '../train/util.ts';
import { forwardLogp, goldenAdapter } from './util.ts';

const PROMPTS = [
  [1, 17, 300, 45, 99],
  [1, 250, 8, 77, 401, 3, 150, 61, 12],
  [1, 5, 480],
];

describe('KV-cache decoder (golden tiny Llama)', () => {
  let ctx: GpuContext;
  let base: BaseModel;
  let lora: Lora;
  let dec: Decoder;
  let V: number;
  beforeAll(async () => {
    ctx = await gpu();
    const g = await goldenModel(ctx);
    base = g.base;
    V = g.cfg.V;
    lora = await goldenAdapter(ctx, g.cfg, g.configJson);
    dec = new Decoder(ctx, base, lora);
  });
  afterAll(() => {
    dec.release();
    releaseLora(ctx, lora);
    releaseBaseModel(ctx, base);
  });

  it('cached steps give the logits of recomputing the whole sequence, and the training forward agrees', async () => {
    const prompt = PROMPTS[1];
    const steps = 6;
    dec.useLora = true;
    dec.reserve({ slots: 1, maxLen: prompt.length + steps + 1, prefillRows: prompt.length + steps + 1 });
    const seq = [...prompt];
    let logits = await dec.prefill([prompt]);
    const cached: Float32Array[] = [logits];
    for (let s = 0; s < steps; s++) {
      seq.push(argmax(logits));
      logits = await dec.step([seq.at(-1)!]);
      cached.push(logits);
    }
    let logp = 0;
    for (let s = 0; s <= steps; s++) {
      // No cache: the whole sequence so far as one prefill.
      const full = await dec.prefill([seq.slice(0, prompt.length + s)]);
      expectClose(cached[s], full, 1e-4, 1e-4, `logits after ${s} cached steps`);
      if (s < steps) {
        expect(argmax(full)).toBe(seq[prompt.length + s]);
        logp += tokenLogp(full, seq[prompt.length + s]);
      }
    }
    const ref = await forwardLogp(ctx, base, lora, prompt, seq.slice(prompt.length), true);
    expect(Math.abs(logp - ref)).toBeLessThan(1e-4);
  });

  it('greedy output is deterministic, and the adapter changes it', async () => {
    const o = { maxNewTokens: 8, eosIds: [] };
    const a = await generate(dec, [PROMPTS[0]], o);
    const b = await generate(dec, [PROMPTS[0]], o);
    expect(b[0].ids).toEqual(a[0].ids);
    expect(b[0].logp).toBe(a[0].logp);
    expect(a[0].ids.length).toBe(8);
    expect(a[0].stop).toBe('length');
    const off = await generate(dec, [PROMPTS[0]], { ...o, useLora: false });
    expect(off[0].ids).not.toEqual(a[0].ids);
    // Each run's log-prob is the model's: the adapter-off one against the training forward without the adapter.
    expect(Math.abs(off[0].logp - (await forwardLogp(ctx, base, lora, PROMPTS[0], off[0].ids, false)))).toBeLessThan(1e-4);
  });

  it('stops at EOS (excluded), at a stop token (kept) and at maxNewTokens', async () => {
    const free = (await generate(dec, [PROMPTS[2]], { maxNewTokens: 6, eosIds: [] }))[0].ids;
    const k = free.findIndex((t, i) => i > 0 && !free.slice(0, i).includes(t));
    expect(k).toBeGreaterThan(0);
    const eos = (await generate(dec, [PROMPTS[2]], { maxNewTokens: 6, eosIds: [free[k]] }))[0];
    expect(eos.ids).toEqual(free.slice(0, k));
    expect(eos.stop).toBe('eos');
    const stop = (await generate(dec, [PROMPTS[2]], { maxNewTokens: 6, eosIds: [], isStopToken: (t) => t === free[k] }))[0];
    expect(stop.ids).toEqual(free.slice(0, k + 1));
    expect(stop.stop).toBe('stop-token');
    const short = (await generate(dec, [PROMPTS[2]], { maxNewTokens: 2, eosIds: [] }))[0];
    expect(short.ids).toEqual(free.slice(0, 2));
  });

  it('a batch of prompts of different lengths decodes as each prompt alone (finished ones dropped mid-way)', async () => {
    const o = { maxNewTokens: 7, eosIds: [] };
    const alone: Generated[] = [];
    for (const p of PROMPTS) alone.push((await generate(dec, [p], o))[0]);
    const batched = await generate(dec, PROMPTS, o);
    batched.forEach((g, i) => {
      expect(g.ids, `prompt ${i}`).toEqual(alone[i].ids);
      expect(Math.abs(g.logp - alone[i].logp)).toBeLessThan(1e-4);
    });
    // Stop two of three early: the decoder compacts the batch to the live sequence and must carry on unchanged.
    const stopAt = new Set([alone[0].ids[1], alone[1].ids[1]].filter((t) => !alone[2].ids.includes(t)));
    const cut = (ids: number[]) => {
      const i = ids.findIndex((t) => stopAt.has(t));
      return i < 0 ? ids : ids.slice(0, i + 1);
    };
    let reorders = 0;
    const reorder = dec.reorder.bind(dec);
    dec.reorder = (p) => {
      reorders++;
      reorder(p);
    };
    const early = await generate(dec, PROMPTS, { ...o, isStopToken: (t) => stopAt.has(t) });
    dec.reorder = reorder;
    early.forEach((g, i) => expect(g.ids, `prompt ${i}`).toEqual(cut(alone[i].ids)));
    if (stopAt.size === 2 && early[0].ids.length < 7 && early[1].ids.length < 7) expect(reorders).toBeGreaterThan(0);
  });

  it('sampling repeats with the same seed, and turns greedy as the temperature goes to 0', async () => {
    const o = { maxNewTokens: 6, eosIds: [], doSample: true, temperature: 1.5, topP: 0.95, seed: 7 };
    const a = await generate(dec, [PROMPTS[0], PROMPTS[1]], o);
    const b = await generate(dec, [PROMPTS[0], PROMPTS[1]], o);
    expect(b.map((g) => g.ids)).toEqual(a.map((g) => g.ids));
    const c = await generate(dec, [PROMPTS[0], PROMPTS[1]], { ...o, seed: 8 });
    expect(c.map((g) => g.ids)).not.toEqual(a.map((g) => g.ids));
    for (const g of a) for (const t of g.ids) expect(t).toBeLessThan(V);
    const cold = await generate(dec, [PROMPTS[0], PROMPTS[1]], { ...o, temperature: 1e-4 });
    const greedy = await generate(dec, [PROMPTS[0], PROMPTS[1]], { maxNewTokens: 6, eosIds: [] });
    expect(cold.map((g) => g.ids)).toEqual(greedy.map((g) => g.ids));
  });

  it('beam search: one beam is greedy; more beams find a sequence at least as likely; batching holds', async () => {
    const o = { maxNewTokens: 5, eosIds: [] };
    const greedy = await generate(dec, PROMPTS, o);
    const { beamSearch } = await import('../../src/generate/beam.ts');
    const one = await beamSearch(dec, PROMPTS, { ...o, numBeams: 1, lengthPenalty: 1 });
    one.forEach((g, i) => expect(g.ids).toEqual(greedy[i].ids));
    const beams = await generate(dec, PROMPTS, { ...o, numBeams: 3 });
    beams.forEach((g, i) => {
      expect(g.ids.length).toBe(5);
      expect(g.logp).toBeGreaterThanOrEqual(greedy[i].logp - 1e-6);
    });
    const alone = await generate(dec, [PROMPTS[0]], { ...o, numBeams: 3 });
    expect(alone[0].ids).toEqual(beams[0].ids);
    // The beam's log-prob is the model's.
    expect(Math.abs(beams[0].logp - (await forwardLogp(ctx, base, lora, PROMPTS[0], beams[0].ids, true)))).toBeLessThan(1e-4);
    // With an EOS the search likes, hypotheses close early; the winner's log-prob counts its EOS.
    const eos = beams[0].ids[2];
    const closed = (await generate(dec, [PROMPTS[0]], { ...o, numBeams: 3, eosIds: [eos] }))[0];
    expect(closed.ids).not.toContain(eos);
    const scored = closed.stop === 'eos' ? [...closed.ids, eos] : closed.ids;
    expect(Math.abs(closed.logp - (await forwardLogp(ctx, base, lora, PROMPTS[0], scored, true)))).toBeLessThan(1e-4);
    expect(closed.score).toBeCloseTo(closed.logp / scored.length, 10);
  });
});
