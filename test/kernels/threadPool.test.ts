import { test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { sliceEnd } from "../../src/kernels/ThreadPool.js";
import { toHeap, heapF32 } from "./kernelTestSupport.js";

// The pool's slicing, its first job right after start-up, and its behaviour when a kernel traps in a worker.

test("sliceEnd tiles [0, rows) exactly for grains 1, 4, 32 and 1..4 threads", () => {
  for (const grain of [1, 4, 32]) {
    for (let threads = 1; threads <= 4; threads++) {
      for (const rows of [0, 1, 2, 3, 4, 5, 7, 17, 31, 32, 33, 64, 100, 257, 4096]) {
        let begin = 0;
        const sizes: number[] = [];
        for (let t = 0; t < threads; t++) {
          const end = sliceEnd(t, rows, threads, grain);
          const where = `rows ${rows}, threads ${threads}, grain ${grain}, slice ${t}`;
          assert.ok(end >= begin, `${where}: end ${end} before begin ${begin}`);
          if (t < threads - 1) assert.ok(end % grain === 0 || end === rows, `${where}: end ${end} not grain-aligned`);
          sizes.push(end - begin);
          begin = end;
        }
        assert.equal(begin, rows, `rows ${rows}, threads ${threads}, grain ${grain}: slices end at ${begin}`);
        // balanced: no slice exceeds an equal share by more than one grain (when there is work for every thread)
        if (rows >= threads * grain) {
          const share = Math.ceil(rows / threads);
          for (const size of sizes) assert.ok(size <= share + grain, `rows ${rows}, threads ${threads}, grain ${grain}: slice of ${size}`);
        }
      }
    }
  }
});

test("a parallel call right after start-up completes (workers are listening before they report ready)", async () => {
  // (a worker that read the job counter after reporting ready could miss this first job and hang the call)
  for (let round = 0; round < 5; round++) {
    const compute = await Compute.create(2);
    try {
      const x = heapF32(compute.heap, 1000, "x");
      x.view.fill(1);
      compute.parallel("add", 1000, [x.ptr, toHeap(compute.heap, new Float32Array(1000).fill(2), "y")]);
      assert.ok(x.view.every((v) => v === 3), `round ${round}`);
    } finally {
      compute.dispose();
    }
  }
});

test("a kernel that traps in a worker throws on the main thread, and the pool keeps working", async () => {
  const compute = await Compute.create(2);
  try {
    const heap = compute.heap;
    const n = 4096;
    const dst = heap.alloc(n, "dst");
    // slice 0 reads the last n/2 bytes of memory; slice 1 reads past the end and traps. Slices are claimed, so slice 1
    // ran on the worker (its failure is reported) or, when the worker was late, on the main thread (its own error)
    const src = heap.memory.buffer.byteLength - n / 2;
    assert.throws(() => compute.parallel("copy_bytes", n, [src, dst.ptr]), /copy_bytes failed in a worker thread|out of bounds/);
    // both slices trapping: the main thread's own error
    assert.throws(() => compute.parallel("copy_bytes", n, [0xfffff000, dst.ptr]), /out of bounds/);
    const bytes = Uint8Array.from({ length: n }, (_, i) => i % 251);
    compute.parallel("copy_bytes", n, [toHeap(heap, bytes, "src"), dst.ptr]);
    assert.deepEqual(heap.u8(dst, 0, n), bytes);
  } finally {
    compute.dispose();
  }
});

test("many back-to-back jobs of varying size give exact results, every slice run once by some thread", async () => {
  // slices are claimed through a shared counter (ThreadPool.run); a slice run twice would add y twice, a slice never run
  // would leave x as it was, and a claim that leaked into the next job would use that job's arguments
  const compute = await Compute.create(2);
  try {
    const n = 4096;
    const x = heapF32(compute.heap, n, "x");
    const y = toHeap(compute.heap, new Float32Array(n).fill(1), "y");
    const before = compute.pool.counters;
    const jobs = 2000;
    for (let job = 0; job < jobs; job++) {
      const rows = 2 + ((job * 97) % (n - 2));
      x.view.fill(job, 0, n);
      compute.parallel("add", rows, [x.ptr, y]);
      for (const at of [0, rows >> 1, rows - 1]) assert.equal(x.view[at], job + 1, `job ${job}, rows ${rows}, element ${at}`);
      if (rows < n) assert.equal(x.view[rows], job, `job ${job}: element ${rows} is past the rows`);
    }
    const after = compute.pool.counters;
    assert.equal(after.jobs - before.jobs, jobs);
    assert.ok(after.mainSlices - before.mainSlices <= 2 * jobs, "the main thread ran more slices than there were");
  } finally {
    compute.dispose();
  }
});
