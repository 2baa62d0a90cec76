// The studio's engine worker: owns the GPU and the run; the page talks to it through protocol.ts, and
// serve.ts turns each request into a call of the LocalEngine method it names.
import { LocalEngine } from '../engine/local.ts';
import { IdbRunStore } from '../train/idb-store.ts';
import { serveEngine, type PortLike } from './serve.ts';

const engine = new LocalEngine(new IdbRunStore(), import.meta.env.BASE_URL);
// onnxruntime-web (wasm, ~25 MB) is fetched only when a web export is checked. One thread: the worker would
// otherwise start a pool of its own workers for a check that decodes six tokens.
engine.ort = async () => {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  return ort;
};
serveEngine(self as unknown as PortLike, engine);

// TEST-ONLY: a page opened with `?test-faults` names its worker so (client.ts), and the fault tests
// (tests/e2e/faults.test.ts) then destroy the GPU device inside a step from Playwright's worker.evaluate, as a
// driver reset would. Nothing in the studio calls it; without the query parameter it does not exist.
if (self.name.includes('test-faults')) {
  (self as unknown as { __testFaults: unknown }).__testFaults = { loseDeviceWithin: (submissions: number) => engine.loseDeviceWithin(submissions) };
}
