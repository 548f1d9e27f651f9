/**
 * What the engine needs from the platform it runs on, as small interfaces the core calls without knowing where it is:
 * the compiled kernels, pool workers, file bytes by name, atomic file writes and QAQ's file backing tier.
 *
 * The implementation is chosen at the edge, by module resolution: the core imports `platform` from "#platform",
 * which package.json's "imports" map resolves to platform/node/nodePlatform.js under Node and to
 * platform/browser/browserPlatform.js under the "browser" condition (the esbuild bundle). So no core module imports a
 * Node module; test/platform/coreImports.test.ts fails if one does.
 */
import type { CacheShape } from "../cache/KVCache.js";
import type { BackingTier } from "../cache/qaq/BackingTier.js";

/** Where a file's bytes land: the engine passes a view of its wasm heap, so weights are read in place. */
export type ByteAllocator = (byteLength: number) => Uint8Array;

/** `(bytesRead, total)` after every chunk; total is 0 when the size is unknown until the end. */
export type ReadProgress = (bytesRead: number, total: number) => void;

/** A file's bytes wherever they come from (a path, a URL, a browser File), read whole into memory `allocate` gives. */
export interface ByteSource {
  /** names the file in errors and reports */
  readonly name: string;
  read(allocate: ByteAllocator, onProgress?: ReadProgress, signal?: AbortSignal): Promise<Uint8Array>;
}

/** What a pool worker is started with (see kernels/ThreadPool.ts). */
export interface PoolWorkerInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly controlPtr: number;
  /** 1..threads-1 (the engine's own thread is 0) */
  readonly index: number;
  readonly threads: number;
  /** the kernels' export names, in the order the control block's kernel index refers to */
  readonly names: readonly string[];
}

export interface PoolWorkerHandle {
  /** resolves once the worker has instantiated the kernels and listens to the control block */
  readonly ready: Promise<void>;
  terminate(): void;
}

/** A file being written in order; see Platform.writeFileAtomically. */
export interface FileSink {
  readonly bytesWritten: number;
  /** Appends `bytes`; the caller may reuse its buffer as soon as the promise resolves. */
  write(bytes: Uint8Array): Promise<void>;
  writeZeros(count: number): Promise<void>;
}

export interface Platform {
  readonly name: "node" | "browser";
  /** kernels.wasm, compiled (callers cache the module) */
  compileKernels(): Promise<WebAssembly.Module>;
  /** A worker running kernels/poolWorkerLoop over the shared memory. */
  startPoolWorker(init: PoolWorkerInit): PoolWorkerHandle;
  /** The file at a path (Node) or URL (browser). */
  fileSource(path: string): ByteSource;
  /** A small file's bytes, synchronously (llama2.c tokenizers); throws where there is no file system. */
  readFileSync(path: string): Uint8Array;
  /** Writes `path` through a temporary file renamed into place only when `produce` resolves. */
  writeFileAtomically(path: string, produce: (sink: FileSink) => Promise<void>): Promise<void>;
  /** QAQ's backing tier on a temporary file (`backing=file`); throws where there is no file system. */
  createFileBackingTier(shape: CacheShape): BackingTier;
}
