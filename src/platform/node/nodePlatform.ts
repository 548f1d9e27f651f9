/**
 * The Node platform: kernels.wasm and files from the file system, pool workers on worker_threads, QAQ's backing tier on
 * a temporary file. package.json's "imports" resolves "#platform" here everywhere but in the browser bundle.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import type { Platform, PoolWorkerHandle, PoolWorkerInit } from "../Platform.js";
import { AtomicFileWriter } from "./AtomicFileWriter.js";
import { FileBackingTier } from "./FileBackingTier.js";
import { readWholeFileNode } from "./readWholeFileNode.js";

function startPoolWorker(init: PoolWorkerInit): PoolWorkerHandle {
  const worker = new Worker(new URL("./nodePoolWorker.js", import.meta.url), { workerData: init });
  // an idle pool never keeps the process alive (the CLI exits when its work is done)
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return { ready, terminate: () => void worker.terminate() };
}

export const platform: Platform = {
  name: "node",
  compileKernels: async () => WebAssembly.compile(await readFile(new URL("../../../kernels.wasm", import.meta.url))),
  startPoolWorker,
  fileSource: (path) => ({ name: path, read: (allocate, onProgress, signal) => readWholeFileNode(path, allocate, onProgress, signal) }),
  readFileSync: (path) => readFileSync(path),
  writeFileAtomically: (path, produce) => AtomicFileWriter.writeFile(path, produce),
  createFileBackingTier: (shape) => new FileBackingTier(shape),
};
