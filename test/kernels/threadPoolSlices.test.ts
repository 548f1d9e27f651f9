import { test } from "node:test";
import assert from "node:assert/strict";
import { sliceEnd } from "../../src/kernels/ThreadPool.js";

// The pool's slices must tile [0, rows) exactly: contiguous, non-overlapping, in order, grain-aligned except at the
// end, for every thread count and grain the engine uses.
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
          if (t < threads - 1) assert.equal(end % grain === 0 || end === rows, true, `${where}: end ${end} not grain-aligned`);
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
