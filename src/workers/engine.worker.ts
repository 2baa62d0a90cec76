// The studio's engine worker: owns the GPU and the run; the page talks to it through protocol.ts, and
// serve.ts turns each request into a call of the LocalEngine method it names.
import { LocalEngine } from '../engine/local.ts';
import { IdbRunStore } from '../train/idb-store.ts';
import { serveEngine, type PortLike } from './serve.ts';

serveEngine(self as unknown as PortLike, new LocalEngine(new IdbRunStore(), import.meta.env.BASE_URL));
