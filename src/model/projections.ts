// The vocabulary of a layer's linear projections, in one place: their names (as PEFT names its target
// modules, in the order layers apply them and adapters list them) and the storage types the engine keeps
// them in on the GPU. No imports, so io, onnx, ui and the engine can all use it without pulling in GPU code.

/** The seven linear projections of a layer, named as PEFT names its target modules. */
export const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type Projection = (typeof PROJECTIONS)[number];

/**
 * How the base model's linear projections are stored on the GPU (`--quant`, the studio's precision picker);
 * the embedding and output head follow (q8_0 for q4_0 and q8_0, f16 for f16, f32 for none).
 */
export const QUANTS = ['none', 'q8_0', 'q4_0', 'f16'] as const;
export type Quant = (typeof QUANTS)[number];
