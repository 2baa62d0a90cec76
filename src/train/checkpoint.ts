// A checkpoint is one safetensors blob: every LoRA weight and AdamW moment (f32, bit-exact, so a resumed
// run continues exactly) plus the run state as JSON in __metadata__. Stores write it so that a failure
// mid-write never damages the previous checkpoint (see the store implementations).
import { openSafetensors, toFloat32, writeSafetensors } from '../io/safetensors.ts';
import { memorySource } from '../io/source.ts';
import { loraModules, peftName, type Lora } from '../model/lora.ts';
import type { GpuContext } from '../gpu/context.ts';
import { checkRunState, nonFiniteTensors, type RunState } from './run-state.ts';

// RunState is declared beside its checks (run-state.ts), so run-state.ts imports nothing from here.
export type { RunState };

export interface Checkpoint {
  state: RunState;
  tensors: Map<string, Float32Array>;
}

/** Tensor names: PEFT's for weights; `.exp_avg` / `.exp_avg_sq` suffixes for the AdamW moments (as torch names them). */
export async function snapshotLora(ctx: GpuContext, lora: Lora): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const m of loraModules(lora)) {
    const nA = lora.R * m.K;
    const nB = m.N * lora.R;
    const a = peftName(m.layer, m.proj, 'lora_A');
    const b = peftName(m.layer, m.proj, 'lora_B');
    out.set(a, await ctx.readF32(m.A, nA));
    out.set(`${a}.exp_avg`, await ctx.readF32(m.mA, nA));
    out.set(`${a}.exp_avg_sq`, await ctx.readF32(m.vA, nA));
    out.set(b, await ctx.readF32(m.B, nB));
    out.set(`${b}.exp_avg`, await ctx.readF32(m.mB, nB));
    out.set(`${b}.exp_avg_sq`, await ctx.readF32(m.vB, nB));
  }
  return out;
}

/** Writes weights and moments back into a LoRA of the same shape; names the missing tensor on mismatch. */
export function restoreLora(ctx: GpuContext, lora: Lora, tensors: Map<string, Float32Array>): void {
  const get = (name: string, n: number) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`checkpoint: tensor ${name} is missing`);
    if (t.length !== n) throw new Error(`checkpoint: tensor ${name} has ${t.length} values, expected ${n}`);
    return t;
  };
  for (const m of loraModules(lora)) {
    const nA = lora.R * m.K;
    const nB = m.N * lora.R;
    const a = peftName(m.layer, m.proj, 'lora_A');
    const b = peftName(m.layer, m.proj, 'lora_B');
    ctx.write(m.A, get(a, nA));
    ctx.write(m.mA, get(`${a}.exp_avg`, nA));
    ctx.write(m.vA, get(`${a}.exp_avg_sq`, nA));
    ctx.write(m.B, get(b, nB));
    ctx.write(m.mB, get(`${b}.exp_avg`, nB));
    ctx.write(m.vB, get(`${b}.exp_avg_sq`, nB));
  }
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors = [...c.tensors].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
  return writeSafetensors(tensors, { run_state: JSON.stringify(c.state) });
}

export async function decodeCheckpoint(bytes: Uint8Array, name = 'checkpoint'): Promise<Checkpoint> {
  const st = await openSafetensors(memorySource(bytes, name));
  const raw = st.metadata.run_state;
  if (!raw) throw new Error(`${name}: no run_state in the metadata; not a CPO Studio checkpoint`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${name}: run_state is not valid JSON (${(e as Error).message}); not resuming from it`);
  }
  if ((parsed as RunState | null)?.version !== 1 && typeof (parsed as RunState | null)?.version === 'number') {
    throw new Error(`${name}: checkpoint version ${String((parsed as RunState).version)} is not supported`);
  }
  const state = checkRunState(parsed, name);
  const tensors = new Map<string, Float32Array>();
  for (const [n, info] of st.tensors) {
    if (info.dtype !== 'F32') throw new Error(`${name}: tensor ${n} is ${info.dtype}; checkpoints hold F32 only`);
    tensors.set(n, toFloat32(info, await st.read(n)));
  }
  const bad = nonFiniteTensors(tensors);
  if (bad.length) throw new Error(`${name}: the checkpoint holds non-finite values, not resuming from it: ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ` and ${bad.length - 4} more tensors` : ''}`);
  return { state, tensors };
}

/** Where runs live: IndexedDB in the browser (idb-store.ts), a folder in Node (node-store.ts). */
export interface RunStore {
  /** Saves atomically: on any failure the previous checkpoint of the run stays readable. */
  save(runId: string, checkpoint: Uint8Array, state: RunState): Promise<void>;
  load(runId: string): Promise<Checkpoint | null>;
  list(): Promise<RunState[]>;
  delete(runId: string): Promise<void>;
  /** Where a run's checkpoint lives, for messages (a file path in Node). */
  where?(runId: string): string;
}

/** Sizes in messages about storage. */
export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 2 ** 10).toFixed(1)} KiB`;
}
