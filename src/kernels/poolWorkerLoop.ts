import { CONTROL, SPIN_ITERATIONS, sliceEnd, type RowKernel } from "./ThreadPool.js";
import { wasmImports } from "./wasmImports.js";
import type { PoolWorkerInit } from "../platform/Platform.js";

/** Smallest non-zero spin (a spin that shrank below it becomes 0: sleep at once). */
const MIN_SPIN = 64;

/**
 * A pool worker's life, the same under Node's worker_threads and in a Web Worker (platform/node/nodePoolWorker.ts,
 * platform/browser/browserPoolWorker.ts start it): instantiate the kernels over the shared memory, announce
 * readiness, then loop forever waiting for the control block's generation to change and claiming slices of the
 * current job until none is left (see ThreadPool). Its spin before sleeping adapts: arriving after every slice was
 * taken (the main thread ran them) halves it, finding a slice grows it back, so a worker that keeps losing its core to
 * another process soon only sleeps and wakes. Atomics.wait is allowed here: a worker is never a page's main thread.
 */
export function runPoolWorker(data: PoolWorkerInit, announceReady: () => void): void {
  const instance = new WebAssembly.Instance(data.module, wasmImports(data.memory));
  const kernels = data.names.map((n) => instance.exports[n] as RowKernel);
  const ctl = new Int32Array(data.memory.buffer, data.controlPtr, 16);
  const args = new Float64Array(data.memory.buffer, data.controlPtr + CONTROL.argsByteOffset, CONTROL.maxArgs);

  /** Slice number `slice` of the job's rows (slice 0 starts at row 0). */
  const runSlice = (slice: number): void => {
    const rows = Atomics.load(ctl, CONTROL.rows);
    const grain = Atomics.load(ctl, CONTROL.grain);
    const fn = kernels[Atomics.load(ctl, CONTROL.kernel)]!;
    const begin = slice === 0 ? 0 : sliceEnd(slice - 1, rows, data.threads, grain);
    const end = sliceEnd(slice, rows, data.threads, grain);
    if (begin < end) {
      fn(begin, end, args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, args[7]!, args[8]!, args[9]!, args[10]!, args[11]!, args[12]!, args[13]!, args[14]!, args[15]!, args[16]!, args[17]!, args[18]!, args[19]!);
    }
  };

  /** Runs slices of the open job until none is left; returns how many this worker ran. */
  const claimSlices = (): number => {
    let ran = 0;
    for (let slice = Atomics.add(ctl, CONTROL.next, 1); slice < data.threads; slice = Atomics.add(ctl, CONTROL.next, 1)) {
      try {
        runSlice(slice);
      } catch {
        // flagged for the main thread to throw; this worker stays alive for the next job (dying would hang it)
        Atomics.add(ctl, CONTROL.failed, 1);
      } finally {
        // counted even if the kernel threw, so the main thread never waits forever
        Atomics.add(ctl, CONTROL.done, 1);
        Atomics.notify(ctl, CONTROL.done);
      }
      ran++;
    }
    return ran;
  };

  let spinLimit: number = SPIN_ITERATIONS;
  // read the generation before announcing readiness: once "ready" is posted the main thread may start a job at once,
  // and a generation read after that bump would make this worker wait for a job that is already running
  let seen = Atomics.load(ctl, CONTROL.generation);
  announceReady();
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, CONTROL.generation) === seen) {
      if (++spins > spinLimit) Atomics.wait(ctl, CONTROL.generation, seen);
    }
    seen = Atomics.load(ctl, CONTROL.generation);
    if (Atomics.load(ctl, CONTROL.quit) === 1) break;
    const ran = claimSlices();
    if (ran > 0) spinLimit = Math.min(SPIN_ITERATIONS, Math.max(MIN_SPIN, 2 * spinLimit));
    else spinLimit = spinLimit >> 1 < MIN_SPIN ? 0 : spinLimit >> 1;
  }
}
