/**
 * A pool worker in the browser (bundled as dist/browser/qaq-pool-worker.js): its first message is the PoolWorkerInit
 * (module and shared memory, which postMessage shares only on a cross-origin isolated page); from then on it
 * listens to the control block only, never to messages.
 */
import { runPoolWorker } from "../../kernels/poolWorkerLoop.js";
import type { PoolWorkerInit } from "../Platform.js";

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<PoolWorkerInit>) => void) | null; postMessage(message: unknown): void };
scope.onmessage = (event) => {
  scope.onmessage = null;
  runPoolWorker(event.data, () => scope.postMessage("ready"));
};
