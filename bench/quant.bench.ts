// GPU quantization throughput (quantize.wgsl) at Qwen2.5-0.5B's MLP weight shape (F, C), from f32 and bf16
// sources; GB/s counts source bytes read plus encoded bytes written.
import type { GpuContext } from '../src/gpu/context.ts';
import { bytesPerRow, type WeightType } from '../src/kernels/quant/formats.ts';
import { quantizeRows, sourceBytes, type SourceType } from '../src/kernels/quant/quantize.ts';
import { Rng } from '../src/util/rng.ts';
import { QWEN05, type BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

export async function cases(ctx: GpuContext, _o: BenchOptions): Promise<BenchCase[]> {
  const rows = QWEN05.F;
  const K = QWEN05.C;
  const rng = new Rng(0);
  const f32 = rng.randn(rows * K, 0.05);
  const bf16 = new Uint16Array(rows * K);
  new Uint32Array(f32.buffer).forEach((u, i) => (bf16[i] = u >>> 16));
  const srcs: Record<'f32' | 'bf16', GPUBuffer> = { f32: ctx.upload('q_src_f32', f32), bf16: ctx.upload('q_src_bf16', bf16) };
  const out = ctx.buffer('q_out', rows * K * 4);
  const list: [SourceType, WeightType][] = [['f32', 'q8_0'], ['f32', 'q4_0'], ['f32', 'f16'], ['bf16', 'q8_0'], ['bf16', 'q4_0']];
  const cases: BenchCase[] = list.map(([s, d]) => ({
    name: `quantize ${s}->${d} ${rows}x${K}`,
    bytes: rows * K * sourceBytes(s) + rows * bytesPerRow(d, K),
    record: (rec) => quantizeRows(rec, out, srcs[s as 'f32' | 'bf16'], s, d, rows, K),
  }));
  cases[cases.length - 1].dispose = () => [srcs.f32, srcs.bf16, out].forEach((b) => ctx.release(b));
  return cases;
}
