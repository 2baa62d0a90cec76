// One settings object for the whole engine, in the spirit of transformers.js's `env`.
// Read at the moment of use, so tests and the CLI may change a field before they open a device.
export const settings = {
  /** Vulkan ICD tried in Node when no adapter is found (Debian's chromium ships SwiftShader here). */
  swiftshaderIcd: '/usr/lib/chromium/vk_swiftshader_icd.json',
  /** Push error scopes around every submit and turn errors into typed exceptions (costs a round trip per submit). */
  checkErrors: true,
  /** Ask for the high-performance adapter. */
  powerPreference: 'high-performance' as GPUPowerPreference,
  /** Log the adapter that was picked. */
  verbose: false,
};
