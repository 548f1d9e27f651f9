import { Worker } from "node:worker_threads";
import type { WasmHeap, Region } from "./WasmHeap.js";

/**
 * The main thread plus persistent workers over one shared wasm memory. A parallel kernel call splits a row range
 * [0, rows) into one contiguous slice per thread; every kernel takes (begin, end, ...args) so a slice is just a
 * different (begin, end). Hand-off is through a control block in the shared memory (never a postMessage per call):
 * the main thread writes the kernel index and arguments, bumps the generation counter and wakes the workers; each
 * worker spins briefly on the generation before sleeping (waking a sleeper costs ~65 us here, a spinning hand-off
 * ~0.4 us), runs its slice and counts itself done; the main thread runs slice 0 and then waits for the count.
 */

/** Layout of the control block, in int32 slots. */
export const CONTROL = {
  generation: 0,
  done: 1,
  kernel: 2,
  rows: 3,
  quit: 4,
  grain: 5,
  /** workers whose slice threw during the current job */
  failed: 6,
  /** float64 arguments start at this byte offset of the block */
  argsByteOffset: 64,
  maxArgs: 20,
  bytes: 64 + 20 * 8,
} as const;

/** Iterations of the spin loop before Atomics.wait (~50-100 us on this machine). */
export const SPIN_ITERATIONS = 20000;

/** A kernel as the pool calls it: (begin, end, a0..a19); wasm ignores surplus arguments. */
export type RowKernel = (begin: number, end: number, ...args: number[]) => void;

export class ThreadPool {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly control: Region;
  /** [slots] int32 view of the control block */
  private readonly ctl: Int32Array;
  /** [CONTROL.maxArgs] float64 arguments */
  private readonly args: Float64Array;
  private readonly kernelIndex: ReadonlyMap<string, number>;
  private readonly mainKernels: readonly RowKernel[];

  private constructor(heap: WasmHeap, threads: number, module: WebAssembly.Module, exports: WebAssembly.Exports) {
    this.threads = threads;
    this.control = heap.alloc(CONTROL.bytes, "thread-pool control block");
    this.ctl = heap.i32(this.control, 0, 16);
    this.args = new Float64Array(heap.memory.buffer, this.control.ptr + CONTROL.argsByteOffset, CONTROL.maxArgs);
    const names = Object.keys(exports).filter((k) => typeof exports[k] === "function");
    this.kernelIndex = new Map(names.map((n, i) => [n, i]));
    this.mainKernels = names.map((n) => exports[n] as RowKernel);
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(new URL("./poolWorker.js", import.meta.url), {
        workerData: { module, memory: heap.memory, controlPtr: this.control.ptr, index, threads, names },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Starts `threads - 1` workers; resolves once every worker has instantiated the module. */
  static async create(heap: WasmHeap, threads: number, module: WebAssembly.Module, exports: WebAssembly.Exports): Promise<ThreadPool> {
    const pool = new ThreadPool(heap, threads, module, exports);
    await Promise.all(
      pool.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once("message", () => resolve());
            w.once("error", reject);
          }),
      ),
    );
    return pool;
  }

  /**
   * Runs `kernel(begin, end, ...args)` over [0, rows), split across the threads in slices aligned to `grain` rows.
   * Small jobs (fewer than `minRowsPerThread` rows per thread) run on the main thread alone.
   */
  run(kernel: string, rows: number, args: readonly number[], grain = 1, minRowsPerThread = 1): void {
    const index = this.kernelIndex.get(kernel);
    if (index === undefined) throw new Error(`no kernel named ${kernel} in kernels.wasm`);
    const fn = this.mainKernels[index]!;
    const a = args;
    if (this.threads === 1 || rows < this.threads * Math.max(grain, minRowsPerThread)) {
      fn(0, rows, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!);
      return;
    }
    for (let i = 0; i < a.length; i++) this.args[i] = a[i]!;
    const ctl = this.ctl;
    Atomics.store(ctl, CONTROL.kernel, index);
    Atomics.store(ctl, CONTROL.rows, rows);
    Atomics.store(ctl, CONTROL.grain, grain);
    Atomics.store(ctl, CONTROL.done, 0);
    Atomics.store(ctl, CONTROL.failed, 0);
    Atomics.add(ctl, CONTROL.generation, 1);
    Atomics.notify(ctl, CONTROL.generation);
    const end = sliceEnd(0, rows, this.threads, grain);
    // even if slice 0 throws, wait for the workers: the next job must not overwrite arguments they are still reading
    let mainError: unknown = null;
    try {
      fn(0, end, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!);
    } catch (error) {
      mainError = error;
    }
    const want = this.threads - 1;
    let spins = 0;
    while (Atomics.load(ctl, CONTROL.done) !== want) {
      if (++spins > SPIN_ITERATIONS) {
        const seen = Atomics.load(ctl, CONTROL.done);
        if (seen !== want) Atomics.wait(ctl, CONTROL.done, seen, 1);
      }
    }
    if (mainError !== null) throw mainError;
    if (Atomics.load(ctl, CONTROL.failed) !== 0) throw new Error(`kernel ${kernel} failed in a worker thread`);
  }

  dispose(): void {
    Atomics.store(this.ctl, CONTROL.quit, 1);
    Atomics.add(this.ctl, CONTROL.generation, 1);
    Atomics.notify(this.ctl, CONTROL.generation);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}

/** End of thread t's slice of [0, rows): equal shares rounded to a multiple of `grain`, the last takes the rest. */
export function sliceEnd(thread: number, rows: number, threads: number, grain: number): number {
  if (thread === threads - 1) return rows;
  const units = Math.ceil(rows / grain);
  return Math.min(rows, Math.floor((units * (thread + 1)) / threads) * grain);
}
