import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { windowCodesRef } from "../../src/kernels/reference/windowCodesRef.js";
import { createRng } from "./kernelTestSupport.js";

// attn_window_codes against its reference (windowCodesRef) byte for byte: probabilities across the coded range and
// beyond it (0, below 2^-31, exact powers of two, 1, above 1, negative values, NaN), odd T, serially and over 2
// threads; tokens past `visible` are left untouched.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

function randomProbability(rng: () => number): number {
  const r = rng();
  if (r < 0.1) return 0;
  if (r < 0.15) return 2 ** -(32 + Math.floor(rng() * 10)); // below the coded range
  if (r < 0.2) return 2 ** -Math.floor(rng() * 31); // bin edges
  if (r < 0.23) return -rng(); // never a probability: must lose to 0
  if (r < 0.25) return 1 + rng() * 3; // above 1: the top code
  if (r < 0.26) return NaN;
  return rng() ** 6;
}

test("attn_window_codes equals the reference byte for byte", () => {
  const heap = compute.heap;
  for (const [nRep, T] of [[1, 1], [1, 7], [3, 33], [8, 301], [4, 1024]] as const) {
    const rng = createRng(nRep * 1000 + T);
    const probs = Float32Array.from({ length: nRep * T }, () => randomProbability(rng));
    const visible = Math.max(1, T - 2);
    const expected = new Uint8Array(visible);
    windowCodesRef(new Int32Array(probs.buffer), nRep, T, visible, new Int32Array(visible), expected);
    const p = heap.alloc(probs.byteLength, "test probs");
    heap.f32(p, 0, probs.length).set(probs);
    const out = heap.alloc(T, "test codes");
    for (const parallel of [false, true]) {
      heap.u8(out, 0, T).fill(0xee);
      if (parallel) compute.parallel("attn_window_codes", visible, [p.ptr, out.ptr, nRep, T], 1);
      else compute.kernels.attn_window_codes(0, visible, p.ptr, out.ptr, nRep, T);
      const got = heap.u8(out, 0, T);
      assert.deepEqual(Array.from(got.subarray(0, visible)), Array.from(expected), `nRep ${nRep}, T ${T}, ${parallel ? "2 threads" : "serial"}`);
      assert.ok(got.subarray(visible).every((b) => b === 0xee), "bytes past visible untouched");
    }
    heap.free(p);
    heap.free(out);
  }
});
