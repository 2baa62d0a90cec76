// One way to get a GPUDevice: `navigator.gpu` in browsers and workers, the `webgpu` package (Dawn) in Node.
import { settings } from '../settings.ts';
import { readCapabilities, requiredLimits, type Capabilities } from './caps.ts';
import { GpuError } from './errors.ts';

export interface DeviceHandle {
  device: GPUDevice;
  adapter: GPUAdapter;
  caps: Capabilities;
}

// Node (CLI, tests) has no navigator.gpu; browsers and their workers do.
const isNode = typeof process !== 'undefined' && !!process.versions?.node && !(globalThis as { navigator?: Navigator }).navigator?.gpu;

// dawn.node frees its instance when the JS object returned by create() is collected, while devices made
// from it still schedule event processing on it (a use-after-free: random mutex asserts and segfaults).
// Every instance we create is therefore kept alive for the life of the process.
const nodeInstances: GPU[] = [];

async function nodeAdapter(): Promise<GPUAdapter | null> {
  // Hidden from bundlers: the browser build never reaches this branch.
  const mod = 'webgpu';
  const { create, globals } = (await import(/* @vite-ignore */ mod)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  // Mesa's and SwiftShader's loaders complain loudly without a runtime dir; give them a private one.
  if (!process.env.XDG_RUNTIME_DIR || !fs.existsSync(process.env.XDG_RUNTIME_DIR)) {
    const dir = path.join(os.tmpdir(), `cpo-studio-xdg-${process.getuid?.() ?? 0}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const opts = { powerPreference: settings.powerPreference };
  const instance = () => {
    const gpu = create([]);
    nodeInstances.push(gpu);
    return gpu;
  };
  let adapter = await instance().requestAdapter(opts);
  if (adapter) return adapter;
  // No adapter from the system's drivers: fall back to the SwiftShader ICD that Debian's chromium ships.
  if (!fs.existsSync(settings.swiftshaderIcd)) return null;
  process.env.VK_ICD_FILENAMES = settings.swiftshaderIcd;
  return instance().requestAdapter(opts);
}

async function browserAdapter(): Promise<GPUAdapter | null> {
  const gpu = (globalThis as { navigator?: Navigator }).navigator?.gpu;
  if (!gpu) {
    throw new GpuError('no-adapter', 'WebGPU is not available: use a recent Chrome or Edge, or enable it in chrome://flags (#enable-unsafe-webgpu).');
  }
  return gpu.requestAdapter({ powerPreference: settings.powerPreference });
}

/** Opens a device with the adapter's own size limits and the optional features we can use. */
export async function openDevice(): Promise<DeviceHandle> {
  const adapter = isNode ? await nodeAdapter() : await browserAdapter();
  if (!adapter) {
    throw new GpuError(
      'no-adapter',
      isNode
        ? `no WebGPU adapter found, not even SwiftShader at ${settings.swiftshaderIcd} (apt-get install -y chromium libvulkan1)`
        : 'the browser offers WebGPU but found no adapter (blocklisted GPU? try chrome://gpu)',
    );
  }
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits: requiredLimits(adapter) });
  const info = adapter.info ?? ({ vendor: '', architecture: '', device: '', description: '' } as GPUAdapterInfo);
  const caps = readCapabilities(adapter, info);
  if (settings.verbose) console.error(`[gpu] adapter: ${caps.adapterName}`);
  return { device, adapter, caps };
}
