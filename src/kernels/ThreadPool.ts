import type { WasmHeap, Region } from "./WasmHeap.js";
import { platform } from "#platform";
import type { PoolWorkerHandle } from "../platform/Platform.js";

/**
 * The main thread plus persistent workers over one shared wasm memory. A parallel kernel call splits a row range
 * [0, rows) into one contiguous slice per thread; every kernel takes (begin, end, ...args) so a slice is just a
 * different (begin, end). Hand-off is through a control block in the shared memory (never a postMessage per call):
 * the main thread writes the kernel index and arguments, opens the job's slices for claiming and wakes the workers.
 *
 * Slices are claimed, not assigned: whoever takes the claim counter (Atomics.add) first runs that slice, the main
 * thread included. The main thread claims until none is left, then waits for the slices others took. So a worker that
 * is not on a core (another process has it, or it is still waking) costs nothing: the main thread runs its slice
 * itself, and the call is never much slower than one thread would be (issue 12: with the second core busy, a fixed
 * assignment made the main thread wait for a descheduled worker and two threads decoded at half the speed of one).
 *
 * Waiting: a worker spins briefly on the generation before sleeping (waking a sleeper costs ~65 us here, a spinning
 * hand-off ~0.4 us). The spin adapts (poolWorkerLoop.ts): a worker that arrives after every slice was claimed spins less
 * next time, down to none, so on a machine where it keeps losing its core it stops taking CPU time from the main
 * thread; a worker that finds work spins longer again.
 * Workers are started by the platform (worker_threads under Node, Web Workers in a browser, where the engine itself
 * runs in a worker, since Atomics.wait is refused on a page's main thread).
 */

/** Layout of the control block, in int32 slots. */
export const CONTROL = {
  generation: 0,
  done: 1,
  kernel: 2,
  rows: 3,
  quit: 4,
  grain: 5,
  /** slices that threw in a worker during the current job */
  failed: 6,
  /** claim counter: the next slice to run (≥ slices: none left) */
  next: 7,
  /** float64 arguments start at this byte offset of the block */
  argsByteOffset: 64,
  maxArgs: 20,
  bytes: 64 + 20 * 8,
} as const;

/** Most iterations of a worker's spin loop before Atomics.wait (~50-100 us on this machine); it adapts down to 0. */
export const SPIN_ITERATIONS = 20000;
/** Iterations the main thread spins for the claimed slices before it sleeps (it wakes on every finished slice). */
export const MAIN_SPIN_ITERATIONS = 2000;

/** A kernel as the pool calls it: (begin, end, a0..a19); wasm ignores surplus arguments. */
export type RowKernel = (begin: number, end: number, ...args: number[]) => void;

export class ThreadPool {
  readonly threads: number;
  private readonly workers: PoolWorkerHandle[] = [];
  private readonly control: Region;
  /** [slots] int32 view of the control block */
  private readonly ctl: Int32Array;
  /** [CONTROL.maxArgs] float64 arguments */
  private readonly args: Float64Array;
  private readonly kernelIndex: ReadonlyMap<string, number>;
  private readonly mainKernels: readonly RowKernel[];
  private jobs = 0;
  private mainSlices = 0;

  private constructor(heap: WasmHeap, threads: number, module: WebAssembly.Module, exports: WebAssembly.Exports) {
    this.threads = threads;
    this.control = heap.alloc(CONTROL.bytes, "thread-pool control block");
    this.ctl = heap.i32(this.control, 0, 16);
    Atomics.store(this.ctl, CONTROL.next, threads); // no job open yet: nothing to claim
    this.args = new Float64Array(heap.memory.buffer, this.control.ptr + CONTROL.argsByteOffset, CONTROL.maxArgs);
    const names = Object.keys(exports).filter((k) => typeof exports[k] === "function");
    this.kernelIndex = new Map(names.map((n, i) => [n, i]));
    this.mainKernels = names.map((n) => exports[n] as RowKernel);
    for (let index = 1; index < threads; index++) {
      this.workers.push(platform.startPoolWorker({ module, memory: heap.memory, controlPtr: this.control.ptr, index, threads, names }));
    }
  }

  /** Starts `threads - 1` workers; resolves once every worker has instantiated the module. */
  static async create(heap: WasmHeap, threads: number, module: WebAssembly.Module, exports: WebAssembly.Exports): Promise<ThreadPool> {
    const pool = new ThreadPool(heap, threads, module, exports);
    try {
      await Promise.all(pool.workers.map((w) => w.ready));
    } catch (error) {
      pool.dispose();
      throw error;
    }
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
    const slices = this.threads;
    Atomics.store(ctl, CONTROL.kernel, index);
    Atomics.store(ctl, CONTROL.rows, rows);
    Atomics.store(ctl, CONTROL.grain, grain);
    Atomics.store(ctl, CONTROL.done, 0);
    Atomics.store(ctl, CONTROL.failed, 0);
    // opening the claims comes last: a late claim of the previous job found the counter at ≥ slices until now, so no
    // thread can start a slice before every argument above is written
    Atomics.store(ctl, CONTROL.next, 0);
    Atomics.add(ctl, CONTROL.generation, 1);
    Atomics.notify(ctl, CONTROL.generation);
    // even if a slice throws here, finish the job: the next job must not overwrite arguments a worker is still reading
    let mainError: unknown = null;
    let ran = 0;
    for (let slice = Atomics.add(ctl, CONTROL.next, 1); slice < slices; slice = Atomics.add(ctl, CONTROL.next, 1)) {
      const begin = slice === 0 ? 0 : sliceEnd(slice - 1, rows, slices, grain);
      const end = sliceEnd(slice, rows, slices, grain);
      try {
        if (begin < end) fn(begin, end, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!);
      } catch (error) {
        mainError ??= error;
      }
      ran++;
    }
    const want = slices - ran;
    let spins = 0;
    for (let seen = Atomics.load(ctl, CONTROL.done); seen !== want; seen = Atomics.load(ctl, CONTROL.done)) {
      if (++spins > MAIN_SPIN_ITERATIONS) Atomics.wait(ctl, CONTROL.done, seen, 1);
    }
    this.mainSlices += ran;
    this.jobs++;
    if (mainError !== null) throw mainError;
    if (Atomics.load(ctl, CONTROL.failed) !== 0) throw new Error(`kernel ${kernel} failed in a worker thread`);
  }

  /** Parallel jobs run so far and slices the main thread ran in them (a measure of how often workers were late). */
  get counters(): { jobs: number; mainSlices: number } {
    return { jobs: this.jobs, mainSlices: this.mainSlices };
  }

  dispose(): void {
    Atomics.store(this.ctl, CONTROL.quit, 1);
    Atomics.add(this.ctl, CONTROL.generation, 1);
    Atomics.notify(this.ctl, CONTROL.generation);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

/** End of thread t's slice of [0, rows): equal shares rounded to a multiple of `grain`, the last takes the rest. */
export function sliceEnd(thread: number, rows: number, threads: number, grain: number): number {
  if (thread === threads - 1) return rows;
  const units = Math.ceil(rows / grain);
  return Math.min(rows, Math.floor((units * (thread + 1)) / threads) * grain);
}
