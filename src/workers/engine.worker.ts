// The studio's engine worker: owns the GPU and the run; the page talks to it through protocol.ts, and
// serve.ts turns each request into a call of the LocalEngine method it names.
import { LocalEngine } from '../engine/local.ts';
import { IdbRunStore } from '../train/idb-store.ts';
import { serveEngine, type PortLike } from './serve.ts';
import { testFaults } from './test-faults.ts';

// TEST-ONLY: a page opened with `?test-faults` names its worker so (client.ts); its store then goes through the
// fault hooks' key-value wrapper (test-faults.ts), which is the real IndexedDB store until a test arms a hold.
const faults = self.name.includes('test-faults') ? testFaults() : null;
const engine = new LocalEngine(new IdbRunStore(faults?.kv), import.meta.env.BASE_URL);
// onnxruntime-web (wasm, ~25 MB) is fetched only when a web export is checked. One thread: the worker would
// otherwise start a pool of its own workers for a check that decodes six tokens.
engine.ort = async () => {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  return ort;
};
serveEngine(self as unknown as PortLike, engine);

// TEST-ONLY: the fault tests (tests/e2e/faults.test.ts) reach these from Playwright's worker.evaluate: destroy the
// GPU device inside a step, as a driver reset would; hold a checkpoint write at one of its stages while the tab
// closes. Nothing in the studio calls them; without the query parameter they do not exist.
if (faults) {
  (self as unknown as { __testFaults: unknown }).__testFaults = {
    loseDeviceWithin: (submissions: number) => engine.loseDeviceWithin(submissions),
    holdSave: faults.holdSave,
    digests: faults.digests,
  };
}
