// The protobuf writer against a real ONNX reader: a small graph built here must load and compute in onnxruntime.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '../../src/onnx/graph.ts';
import { DataType, varint } from '../../src/onnx/proto.ts';
import { nodeOrt } from './ort.ts';

describe('onnx protobuf writer', () => {
  it('writes varints as protobuf does, negative int64 as 10 bytes', () => {
    expect([...varint(0)]).toEqual([0]);
    expect([...varint(300)]).toEqual([0xac, 0x02]);
    expect([...varint(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('a graph with attributes, int64 and f32 initializers and symbolic dims runs in onnxruntime', async () => {
    const ort = nodeOrt();
    const g = new GraphBuilder('smoke');
    const x = g.input('x', DataType.FLOAT, ['n', 3]);
    const y = g.op1('Mul', [x, g.f32('w', [3], Float32Array.of(1, 2, 3))]);
    const mean = g.op1('ReduceMean', [y], { axes: attr.ints([-1]), keepdims: attr.int(1) });
    const r = g.op1('Reshape', [mean, g.ints([-1])]);
    const s = g.op1('Mul', [r, g.scalar(0.5)]);
    g.output('mean', s, DataType.FLOAT, ['n']);
    const session = await ort.InferenceSession.create(g.serialize({ producerName: 'test', metadata: { k: 'v' } }));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 1, 1, 2, -2, 4), [2, 3]) });
    const got = Array.from(out.mean.data as Float32Array);
    expect(got[0]).toBe(0.5 * 2);
    expect(got[1]).toBeCloseTo(0.5 * ((2 - 4 + 12) / 3), 6);
    expect(out.mean.dims).toEqual([2]);
  });
});
