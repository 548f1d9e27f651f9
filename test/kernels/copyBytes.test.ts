import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { createRng, toHeap, runSerialAndParallel } from "./kernelTestSupport.js";

// copy_bytes copies exactly the bytes [begin, end) (64-byte steps, 16-byte steps and single bytes), no more.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

test("copy_bytes copies exactly its byte range", () => {
  const heap = compute.heap;
  for (const n of [1, 15, 16, 63, 64, 65, 1000, 4099]) {
    const rng = createRng(n);
    const src = Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
    const srcPtr = toHeap(heap, src, "src");
    const dst = heap.alloc(n + 16, "dst");
    const view = heap.u8(dst, 0, n + 16);
    runSerialAndParallel(compute, "copy_bytes", n, [srcPtr, dst.ptr],
      () => view.fill(0xee),
      (mode) => {
        assert.deepEqual(view.subarray(0, n), src, `copy_bytes n ${n} ${mode}`);
        assert.ok(view.subarray(n).every((b) => b === 0xee), `copy_bytes n ${n} ${mode}: wrote past the end`);
      });
    // an interior range with odd ends
    if (n > 40) {
      view.fill(0xee);
      compute.kernels.copy_bytes(7, n - 9, srcPtr, dst.ptr);
      assert.ok(view.subarray(0, 7).every((b) => b === 0xee), `copy_bytes [7, ${n - 9}): wrote before begin`);
      assert.deepEqual(view.subarray(7, n - 9), src.subarray(7, n - 9));
      assert.ok(view.subarray(n - 9).every((b) => b === 0xee), `copy_bytes [7, ${n - 9}): wrote past end`);
    }
  }
});
