import { parentPort, workerData } from "node:worker_threads";
import { runPoolWorker } from "../../kernels/poolWorkerLoop.js";
import type { PoolWorkerInit } from "../Platform.js";

/** A pool worker under Node: worker_threads hands it its PoolWorkerInit as workerData. */
runPoolWorker(workerData as PoolWorkerInit, () => parentPort!.postMessage("ready"));
