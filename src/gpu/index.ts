export { GpuContext, STORAGE } from './context.ts';
export { Recorder, type Dispatch, type Binding } from './recorder.ts';
export { GpuError, DeviceLostError } from './errors.ts';
export { describeCapabilities, type Capabilities } from './caps.ts';
export { preprocess, type Defines } from './wgsl.ts';
export { splitRows, type RowPart } from './split.ts';
