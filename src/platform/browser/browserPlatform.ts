/**
 * The browser platform (package.json "imports" resolves "#platform" here under the "browser" condition, which the
 * esbuild bundle sets): kernels.wasm fetched beside the bundle, pool workers as module Web Workers (threads need a
 * cross-origin isolated page, where a shared memory may be posted to them), files by URL. There is no file system:
 * synchronous file reads, file writes and QAQ's `backing=file` are refused with an error saying what to use instead.
 */
import { UnsupportedError } from "../../util/errors.js";
import type { Platform, PoolWorkerHandle, PoolWorkerInit } from "../Platform.js";
import { fetchSource } from "./byteSources.js";

/** Where the bundle's companions are; by default beside the bundle file (dist/browser/). */
export const browserAssets = {
  kernels: new URL("./kernels.wasm", import.meta.url),
  poolWorker: new URL("./qaq-pool-worker.js", import.meta.url),
};

/** For pages that serve kernels.wasm or the pool worker from elsewhere than beside the bundle. */
export function setBrowserAssetUrls(urls: { kernels?: URL; poolWorker?: URL }): void {
  if (urls.kernels !== undefined) browserAssets.kernels = urls.kernels;
  if (urls.poolWorker !== undefined) browserAssets.poolWorker = urls.poolWorker;
}

/** True when this context may share memory with workers (COOP: same-origin and COEP: require-corp on the page). */
export function isCrossOriginIsolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

async function compileKernels(): Promise<WebAssembly.Module> {
  const response = await fetch(browserAssets.kernels);
  if (!response.ok) throw new UnsupportedError(`${browserAssets.kernels}: HTTP ${response.status}; kernels.wasm must be served beside the bundle`);
  // compiled from bytes rather than compileStreaming: static hosts do not all serve .wasm as application/wasm
  return WebAssembly.compile(await response.arrayBuffer());
}

function startPoolWorker(init: PoolWorkerInit): PoolWorkerHandle {
  if (!isCrossOriginIsolated()) {
    throw new UnsupportedError(
      "threads > 1 need a cross-origin isolated page (headers Cross-Origin-Opener-Policy: same-origin and " +
        "Cross-Origin-Embedder-Policy: require-corp); use threads: 1 here",
    );
  }
  const worker = new Worker(browserAssets.poolWorker, { type: "module", name: `qaq-pool-${init.index}` });
  const ready = new Promise<void>((resolve, reject) => {
    worker.addEventListener("message", () => resolve(), { once: true });
    worker.addEventListener("error", (event) => reject(new Error(`pool worker ${init.index} failed to start: ${event.message}`)), { once: true });
  });
  worker.postMessage(init);
  return { ready, terminate: () => worker.terminate() };
}

function noFileSystem(what: string): never {
  throw new UnsupportedError(`${what} needs a file system, which a browser has not`);
}

export const platform: Platform = {
  name: "browser",
  compileKernels,
  startPoolWorker,
  fileSource: (url) => fetchSource(url),
  readFileSync: (path) => noFileSystem(`reading ${path} synchronously (load files by URL or File)`),
  writeFileAtomically: (path) => noFileSystem(`writing ${path}`),
  createFileBackingTier: () => noFileSystem("QAQ's backing=file (use backing=memory or backing=none)"),
};
