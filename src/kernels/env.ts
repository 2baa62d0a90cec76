// Every knob of the kernels in one object, in the spirit of transformers.js' `env`: which variant runs and with
// which tiles. `null` / 'auto' (the defaults) let each kernel pick from ctx.caps and the shape; anything else forces
// that choice for every later dispatch, on any device (tests force each variant on SwiftShader this way; a bench can
// try another tiling). Set a field, run, then resetKernelEnv(). Pipelines are cached per define set, so a forced
// variant compiles once and switching back costs nothing.
import type { GpuContext } from '../gpu/context.ts';

/** The output head's tiling (src/kernels/head/head.ts picks a CPU or GPU set; kernelEnv.head.tuning overrides fields). */
export interface HeadTuning {
  /** Threads per workgroup in the training forward's partial pass (fewer where C has fewer groups of 8 columns). */
  wg: number;
  /** Threads per workgroup in the forward-only partial pass. */
  wgFwd: number;
  /** Positions per workgroup in the forward-only pass (logits tile rows). */
  sbFwd: number;
  /** Vocab rows per thread in the forward-only logits tile: 4 or 8 (the training forward always takes 4). */
  vptFwd: 4 | 8;
  /** Vocab rows per thread in the training forward's logits tile: 4 or 8. */
  vptGrad: 4 | 8;
  /** Upper bound on (positions per workgroup) x (vec4 columns per thread) in the training forward's Σ softmax·W accumulator. */
  gradTile: number;
  /** Training-forward workgroups to aim for: vocab splits are added until rowBlocks * splits reaches it. */
  gradTarget: number;
  /** Cap on the training forward's partial buffer, (splits, S, C) f32. */
  gradScratchBytes: number;
}

export interface KernelEnv {
  /**
   * Whose choices the kernels make where a field below is left to them: 'cpu' tunes for a CPU rasterizer
   * (SwiftShader: barrier-free register tiles, small workgroups), 'gpu' for a real GPU (workgroup-shared tiles,
   * split reductions, many threads), 'auto' by ctx.caps.isCpu. 'gpu' on SwiftShader runs exactly the kernels a
   * real GPU runs (slower there, still correct): the whole-model tests force it.
   */
  device: 'auto' | 'cpu' | 'gpu';
  attention: {
    /** 'loop': rows in registers, no barriers (CPU adapters). 'tiled': workgroup-shared Q/K/V tiles (GPUs). */
    variant: 'loop' | 'tiled' | null;
    /** Tiles of the tiled variant (query rows x keys); null: the largest that fit the device. */
    tiles: { BQ: number; BK: number } | null;
    /**
     * Scores summed across a row's threads by subgroup shuffles: in the tiled kernels, without the row's own and the
     * score tiles in workgroup memory; in the loop forward, a row group's registers and loads split over 4 lanes.
     * 'auto' where the device's subgroups have at least 4 lanes, true to insist (an error elsewhere), false for the
     * shared-memory path and the one-lane loop forward.
     */
    subgroups: 'auto' | boolean;
    /** Query rows per invocation of the loop variant's forward (a power of two); null: its default (attention.ts fwdRows). */
    rows: number | null;
    /** Keys per invocation of the loop variant's DKDV (1, 2 or 4); null: its default (attention.ts dkdvKeys). */
    keys: number | null;
  };
  matmul: {
    /**
     * 'register': 8x8 register tiles (CPU adapters). 'shared': 64x64 workgroup tiles (GPUs). 'matvec' (forward
     * only, M <= 8): a CPU adapter's choice for decoding; the backward then takes 'register'. A per-call
     * `opts.variant` still wins over this.
     */
    variant: 'register' | 'shared' | 'matvec' | null;
    /**
     * The shared variant's dequantized weights as f16 (products and sums stay f32): 'auto' where the device has
     * shader-f16 and the weight is not f32, true to insist (an error without shader-f16), false for f32.
     */
    f16: 'auto' | boolean;
  };
  head: {
    /** The output head's tuning set: 'cpu' (register tiles for SwiftShader) or 'gpu' (vocab splits for occupancy). */
    variant: 'cpu' | 'gpu' | null;
    /** Fields that replace the chosen set's (odd tilings in tests). */
    tuning: Partial<HeadTuning>;
  };
  rmsnorm: {
    /** 'serial': one row per invocation (CPU adapters). 'workgroup': 64 threads per row (GPUs). */
    layout: 'auto' | 'serial' | 'workgroup';
    /**
     * The workgroup layout as one subgroup per row (subgroupAdd, no barriers) where the device's subgroups all
     * have one size: 'auto' wherever that holds, true to insist (an error elsewhere), false for the shared-memory tree.
     */
    subgroups: 'auto' | boolean;
  };
  reduce: {
    /**
     * The loss's and the gradient norm's workgroup sums (src/kernels/reduce) as one subgroup per workgroup
     * (subgroupAdd) where the device's subgroups all have one size: 'auto' wherever that holds (SwiftShader too),
     * true to insist (an error elsewhere), false for the shared-memory tree.
     */
    subgroups: 'auto' | boolean;
  };
  lora: {
    /** Invocations sharing one output tile's reduction: 1 is barrier-free; a power of two <= wg. */
    split: 'auto' | number;
    /** Workgroup size. */
    wg: 'auto' | number;
    /** Register tile (rows x columns, multiples of 4). */
    tile: 'auto' | [number, number];
    /** The SHORT form for products over R ('auto': on a CPU adapter unless a tile is forced). */
    short: 'auto' | boolean;
  };
  step: {
    /**
     * The training step's layout (src/model/batch.ts): true runs each pair's prompt once, its chosen and rejected
     * completions as two branches attending to it (layoutSharedPrompt); false runs chosen and rejected as two
     * sequences, TRL's concatenated layout (layoutPairs). Both give the same log-probs and gradients; a micro-batch
     * with LoRA dropout always takes two sequences (each copy of the prompt draws its own dropout mask, as in TRL).
     */
    sharedPrompt: boolean;
  };
}

function defaults(): KernelEnv {
  return {
    device: 'auto',
    attention: { variant: null, tiles: null, subgroups: 'auto', rows: null, keys: null },
    matmul: { variant: null, f16: 'auto' },
    head: { variant: null, tuning: {} },
    rmsnorm: { layout: 'auto', subgroups: 'auto' },
    reduce: { subgroups: 'auto' },
    lora: { split: 'auto', wg: 'auto', tile: 'auto', short: 'auto' },
    step: { sharedPrompt: true },
  };
}

export const kernelEnv: KernelEnv = defaults();

/** Whether the kernels tune for a CPU rasterizer: kernelEnv.device, or the adapter's own kind under 'auto'. */
export function cpuTuned(ctx: GpuContext): boolean {
  return kernelEnv.device === 'auto' ? ctx.caps.isCpu : kernelEnv.device === 'cpu';
}

/** Back to every kernel's own choice. Sections are reset in place, so references to them stay valid. */
export function resetKernelEnv(): void {
  const d = defaults();
  kernelEnv.device = d.device;
  for (const k of ['attention', 'matmul', 'head', 'rmsnorm', 'reduce', 'lora', 'step'] as const) Object.assign(kernelEnv[k], d[k]);
}
