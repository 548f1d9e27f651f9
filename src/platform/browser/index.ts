/**
 * qaq-kv in a browser (bundled as dist/browser/qaq.js): the whole library, run inside a Web Worker, plus what only the
 * browser needs: loading by URL or File with progress, the thread choice that follows cross-origin isolation, and
 * where the bundle's companions (kernels.wasm, the pool worker) are served. Pages that want the engine without
 * writing a worker use QaqClient (dist/browser/qaq-client.js) and the ready-made engine worker.
 */
export * from "../../index.js";
export { loadEngine, chooseThreads, byteSourceOf, type BrowserLoadOptions } from "./loadEngine.js";
export { fetchSource, blobSource } from "./byteSources.js";
export { setBrowserAssetUrls, isCrossOriginIsolated } from "./browserPlatform.js";
export type { ByteSource, ReadProgress } from "../Platform.js";
export type * from "./engineProtocol.js";
