// The memory numbers the studio shows are the engine planner's (train/memory-plan.ts): memoryPlan, which the
// Start and Training screens' MemoryEstimate calls, against planRun for the same settings.
import { describe, expect, it } from 'vitest';
import { SeriesStore } from '../../src/ui/lib/series.ts';
import { availableBytes, fitOf } from '../../src/ui/lib/memory.ts';
import { catalogModel } from '../../src/ui/lib/models.ts';
import { createStudioStore } from '../../src/ui/store/index.ts';
import { memoryPlan, planDims } from '../../src/ui/store/selectors.ts';
import { DEFAULT_CAPS, planRun } from '../../src/train/memory-plan.ts';
import { FakeEngine } from './fake-engine.ts';

const store = () => createStudioStore({ engine: new FakeEngine({ loadMs: 5 }), series: new SeriesStore() });

describe('memory plan on the page', () => {
  it('is the engine planner\'s plan of the settings, and of the Start screen\'s what-if', () => {
    const s = store().getState();
    const c = s.config;
    const settings = { quant: s.quant, batchSize: c.batchSize, maxLength: c.maxLength, r: c.r, targets: c.targets, dropout: c.dropout };
    const demo = catalogModel('demo')!.dims;
    expect(memoryPlan(s)!.plan).toEqual(planRun(demo, settings, DEFAULT_CAPS));
    expect(memoryPlan(s, { batchSize: 6, maxLength: 300 })!.plan).toEqual(planRun(demo, { ...settings, batchSize: 6, maxLength: 300 }, DEFAULT_CAPS));
    // The what-if changes the activations, never the trainable parameters (Start and Training show the same count).
    expect(memoryPlan(s, { batchSize: 6 })!.plan.loraParams).toBe(memoryPlan(s)!.plan.loraParams);
    expect(memoryPlan(s, { batchSize: 6 })!.plan.workspaceBytes).toBeGreaterThan(memoryPlan(s)!.plan.workspaceBytes);
  });

  it('plans a loaded model with the shape the engine reports, on the device\'s capabilities', async () => {
    const st = store();
    await st.getState().checkGpu();
    await st.getState().loadModel();
    const s = st.getState();
    expect(planDims(s).dims).toEqual(s.modelInfo!.shape);
    const c = s.config;
    const want = planRun(s.modelInfo!.shape!, { quant: s.quant, batchSize: c.batchSize, maxLength: c.maxLength, r: c.r, targets: c.targets, dropout: c.dropout }, s.gpu?.caps ?? DEFAULT_CAPS);
    expect(memoryPlan(s)!.plan).toEqual(want);
    // A catalog pick that is not loaded does not replace the loaded model's shape.
    st.getState().setPlannedModel('haoranxu/ALMA-7B');
    expect(memoryPlan(st.getState())!.plan).toEqual(want);
  });

  it('judges a plan too big when its largest buffer passes maxBufferSize, or the total passes what is available', () => {
    const st = store();
    st.getState().setPlannedModel('haoranxu/ALMA-13B');
    st.setState({ quant: 'none', gpu: { available: true, adapter: 'x', f16: false, subgroups: false, maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 } });
    const p = memoryPlan(st.getState())!;
    expect(p.plan.peakBytes).toBeGreaterThan(p.limit);
    expect(p.fit).toBe('too-big');
  });

  it('judges fit and available memory', () => {
    expect(fitOf(50, 100)).toBe('fits');
    expect(fitOf(90, 100)).toBe('tight');
    expect(fitOf(101, 100)).toBe('too-big');
    expect(availableBytes(8)).toBe(4 * 1024 ** 3);
    expect(availableBytes(undefined)).toBe(4 * 1024 ** 3);
  });
});
