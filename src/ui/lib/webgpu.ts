// A WebGPU probe on the page itself: the Start screen's answer when the engine worker cannot give one
// (not loaded yet, crashed), and the words that tell people how to turn WebGPU on.
import type { GpuInfo } from '../../engine/types.ts';

export function howToEnableWebGpu(): string {
  const ua = globalThis.navigator?.userAgent ?? '';
  if (!globalThis.isSecureContext) return 'WebGPU needs a secure context: open the studio over https:// or from http://localhost / 127.0.0.1.';
  if (/Firefox\//.test(ua)) return 'Firefox ships WebGPU from version 141 on Windows; elsewhere enable dom.webgpu.enabled in about:config, or use Chrome or Edge 113+.';
  if (/Safari\//.test(ua) && !/Chrome\//.test(ua)) return 'Safari 26 enables WebGPU by default; on older versions turn on Develop → Feature Flags → WebGPU, or use Chrome 113+.';
  if (/Linux/.test(ua)) return 'On Linux, Chrome needs chrome://flags/#enable-unsafe-webgpu (and often #enable-vulkan), then a restart. Check chrome://gpu for "WebGPU: Hardware accelerated".';
  return 'Use Chrome or Edge 113 or later. If it is already up to date, check chrome://gpu: WebGPU may be blocked for this GPU or driver; chrome://flags/#enable-unsafe-webgpu overrides the blocklist.';
}

export async function probeWebGpu(): Promise<GpuInfo> {
  const none = (message: string): GpuInfo => ({ available: false, adapter: '', f16: false, subgroups: false, maxBufferSize: 0, maxStorageBufferBindingSize: 0, message });
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) return none(`This browser does not offer WebGPU (navigator.gpu is missing). ${howToEnableWebGpu()}`);
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return none(`requestAdapter failed: ${(e as Error).message}. ${howToEnableWebGpu()}`);
  }
  if (!adapter) return none(`WebGPU is present but no GPU adapter was found (blocklisted GPU or driver, or GPU acceleration is off). ${howToEnableWebGpu()}`);
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ').trim();
  return {
    available: true,
    adapter: name || 'unnamed adapter',
    f16: adapter.features.has('shader-f16'),
    subgroups: adapter.features.has('subgroups'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** True for CPU rasterizers: training works there but slowly, and people should know why. */
export function isSoftwareAdapter(name: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|microsoft basic/i.test(name);
}
