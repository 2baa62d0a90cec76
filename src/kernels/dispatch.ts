// Shared dispatch arithmetic. Kernels over n elements use a 1-D grid folded into x and y when n/wg exceeds
// the 65535-per-dimension limit; in WGSL the flat index is
//   let i = gid.x + gid.y * nwg.x * WG;   // with @builtin(num_workgroups) nwg
import type { GpuContext } from '../gpu/context.ts';

export function grid1d(ctx: GpuContext, n: number, wg: number): [number, number] {
  const groups = Math.ceil(n / wg);
  const max = ctx.caps.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/** Packs mixed u32/f32 uniform fields in declaration order (all 4-byte scalars). */
export function params(fields: (number | { f32: number })[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  fields.forEach((f, i) => {
    if (typeof f === 'number') dv.setUint32(i * 4, f >>> 0, true);
    else dv.setFloat32(i * 4, f.f32, true);
  });
  return buf;
}
