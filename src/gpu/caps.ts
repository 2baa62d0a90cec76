// Everything the kernels may branch on, read once from the adapter. Kernel variants are chosen
// from this object alone, never from scattered feature checks.

export interface Capabilities {
  adapterName: string;
  vendor: string;
  architecture: string;
  /** True for CPU rasterizers (SwiftShader, llvmpipe): barrier-free register tiling wins there. */
  isCpu: boolean;
  f16: boolean;
  subgroups: boolean;
  subgroupMinSize: number;
  subgroupMaxSize: number;
  timestampQuery: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
  minStorageBufferOffsetAlignment: number;
}

export function readCapabilities(adapter: GPUAdapter, info: GPUAdapterInfo): Capabilities {
  const l = adapter.limits;
  const f = adapter.features;
  const desc = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim();
  const isCpu = /swiftshader|llvmpipe|lavapipe|cpu/i.test(desc);
  const anyInfo = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  return {
    adapterName: desc.replace(/\s+/g, ' ') || 'unknown adapter',
    vendor: info.vendor,
    architecture: info.architecture,
    isCpu,
    f16: f.has('shader-f16'),
    subgroups: f.has('subgroups'),
    subgroupMinSize: anyInfo.subgroupMinSize ?? 0,
    subgroupMaxSize: anyInfo.subgroupMaxSize ?? 0,
    timestampQuery: f.has('timestamp-query'),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
  };
}

/** The limits we request: the adapter's own, for the few that bound model size. */
export function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}

export function describeCapabilities(c: Capabilities): string {
  const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
  return [
    c.adapterName,
    `f16 ${c.f16 ? 'yes' : 'no'}`,
    `subgroups ${c.subgroups ? `yes (${c.subgroupMinSize}-${c.subgroupMaxSize})` : 'no'}`,
    `timestamps ${c.timestampQuery ? 'yes' : 'no'}`,
    `binding ${mib(c.maxStorageBufferBindingSize)}`,
    `buffer ${mib(c.maxBufferSize)}`,
    `workgroup storage ${c.maxComputeWorkgroupStorageSize / 1024} KiB`,
  ].join(', ');
}
