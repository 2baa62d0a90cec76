// The worker side of the protocol, for tests: answers requests on a port by calling an in-process engine.
// src/workers/engine.worker.ts does the same with a switch over the kinds.
import type { StudioEngine } from '../../src/engine/types.ts';
import type { EngineRequest } from '../../src/workers/client.ts';
import { serializeError, type Reply } from '../../src/workers/protocol.ts';

export interface PortLike {
  postMessage(m: unknown): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
  start?(): void;
}

export function serveEngine(port: PortLike, engine: StudioEngine): void {
  port.addEventListener('message', async (e: MessageEvent) => {
    const req = e.data as EngineRequest;
    const reply = (r: Reply) => port.postMessage(r);
    const progress = (data: unknown) => reply({ id: req.id, type: 'progress', data });
    try {
      let value: unknown;
      switch (req.kind) {
        case 'gpuInfo':
          value = await engine.gpuInfo();
          break;
        case 'loadModel':
          value = await engine.loadModel(req.args[0], req.args[1], progress);
          break;
        case 'loadDataset':
          value = await engine.loadDataset(req.args[0], req.args[1], progress);
          break;
        case 'train':
          value = await engine.train(req.args[0], progress, req.args[2]);
          break;
        case 'pause':
          value = await engine.pause();
          break;
        case 'stop':
          value = await engine.stop();
          break;
        case 'listRuns':
          value = await engine.listRuns();
          break;
        case 'runHistory':
          value = await engine.runHistory(req.args[0]);
          break;
        case 'deleteRun':
          value = await engine.deleteRun(req.args[0]);
          break;
        case 'exportAdapter':
          value = await engine.exportAdapter(req.args[0], req.args[1]);
          break;
        case 'exportRecipe':
          value = await engine.exportRecipe(req.args[0]);
          break;
        case 'translate':
          value = await engine.translate(req.args[0], req.args[1]);
          break;
        default:
          throw new Error(`unknown request ${(req as { kind: string }).kind}`);
      }
      reply({ id: req.id, type: 'return', value });
    } catch (err) {
      reply({ id: req.id, type: 'throw', error: serializeError(err) });
    }
  });
  port.start?.();
}
