// Joining byte chunks, for every writer and reader that collects a file in parts (data sources, GGUF, ONNX).

/** A new array holding `parts` one after another; `total`: their summed length, when the caller already has it. */
export function concatBytes(parts: readonly Uint8Array[], total = parts.reduce((s, p) => s + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
