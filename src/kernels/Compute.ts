import { WasmHeap } from "./WasmHeap.js";
import { ThreadPool } from "./ThreadPool.js";
import { wasmImports } from "./wasmImports.js";
import type { KernelExports } from "./kernelExports.js";
import { ConfigError } from "../util/errors.js";
import { platform } from "#platform";

/** The compiled kernels, shared by every Compute of the process (a Module is immutable; compiling takes ~ms per engine). */
let compiled: Promise<WebAssembly.Module> | undefined;
function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= platform.compileKernels();
  // a failed compile (a missing file) is not cached: the next engine tries again
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

/**
 * One engine's compute context: the shared wasm heap, the kernels instantiated on the main thread, and the thread
 * pool whose workers run slices of the same kernels over the same memory. Nothing here is global: two engines in one
 * process have two Computes.
 */
export class Compute {
  private constructor(
    readonly heap: WasmHeap,
    /** direct (serial) calls into the main thread's instance */
    readonly kernels: KernelExports,
    readonly pool: ThreadPool,
  ) {}

  static async create(threads: number): Promise<Compute> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new ConfigError("threads", "an integer from 1 to 64", threads);
    }
    const module = await kernelModule();
    const heap = WasmHeap.create();
    const instance = await WebAssembly.instantiate(module, wasmImports(heap.memory));
    const pool = await ThreadPool.create(heap, threads, module, instance.exports);
    return new Compute(heap, instance.exports as unknown as KernelExports, pool);
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Runs a row kernel over [0, rows) on all threads; see ThreadPool.run. */
  parallel(kernel: keyof KernelExports, rows: number, args: readonly number[], grain = 1, minRowsPerThread = 1): void {
    this.pool.run(kernel, rows, args, grain, minRowsPerThread);
  }

  dispose(): void {
    this.pool.dispose();
  }
}
