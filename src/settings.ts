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
  /**
   * The Hugging Face Hub's address, for models and datasets by id (Node: HF_ENDPOINT overrides it per call).
   * The studio reads an override from `localStorage['cpo-studio:settings']` (JSON, e.g. `{"hubUrl": "http://127.0.0.1:8080"}`)
   * when the page starts and sends it with each Hub request to the worker; tests point it at tests/helpers/hub-server.ts.
   */
  hubUrl: 'https://huggingface.co',
};

/** The fields a page may override from storage (studioSettings in src/ui/lib/settings.ts), checked there. */
export type Settings = typeof settings;
