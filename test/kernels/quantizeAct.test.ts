import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { q8ActivationBytes } from "../../src/kernels/kernelExports.js";
import { quantizeActQ8Ref, roundHalfToEven } from "../../src/kernels/reference/quantizeActRef.js";
import { createRng, randomFloats, toHeap, runSerialAndParallel } from "./kernelTestSupport.js";

// quantize_act_q8 must produce exactly the reference's bytes (codes and f32 scales), serially and on 2 threads.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

function checkAgainstReference(x: Float32Array, nTok: number, cols: number, what: string): void {
  const expected = new Uint8Array(nTok * q8ActivationBytes(cols));
  quantizeActQ8Ref(x, expected, nTok, cols);
  const heap = compute.heap;
  const out = heap.alloc(expected.length, "xq");
  runSerialAndParallel(compute, "quantize_act_q8", nTok, [toHeap(heap, x, "x"), out.ptr, cols],
    () => heap.u8(out, 0, expected.length).fill(0xaa),
    (mode) => assert.deepEqual(heap.u8(out, 0, expected.length), expected, `${what} ${mode}`));
}

test("quantize_act_q8 matches the reference bit for bit on random activations", () => {
  for (const [nTok, cols] of [[1, 32], [3, 96], [5, 160], [7, 224]] as const) {
    const rng = createRng(nTok * 100 + cols);
    // a spread of magnitudes per block, as in real activations
    const x = randomFloats(rng, nTok * cols).map((v, i) => v * 10 ** ((i >> 5) % 5 - 2));
    checkAgainstReference(x, nTok, cols, `${nTok}x${cols}`);
  }
});

test("quantize_act_q8 rounds ties to even, gives scale amax/127, and zeros an all-zero block", () => {
  // block 0: amax 127 -> scale exactly 1, so x/scale is x itself and the ties are exact
  const ties = [2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 126.5, 127];
  const x = new Float32Array(64);
  x.set(ties);
  // block 1 stays all zero
  const heap = compute.heap;
  const out = heap.alloc(q8ActivationBytes(64), "xq");
  compute.kernels.quantize_act_q8(0, 1, toHeap(heap, x, "x"), out.ptr, 64);
  const bytes = heap.u8(out, 0, q8ActivationBytes(64));
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset, 64);
  const scales = new DataView(bytes.buffer, bytes.byteOffset + 64, 8);
  const expectedCodes = [2, 4, -2, -4, 0, 0, 126, 127];
  assert.deepEqual(Array.from(codes.subarray(0, ties.length)), expectedCodes);
  // (+ 0 turns the reference's -0 for -0.5 into the 0 an int8 holds)
  assert.deepEqual(ties.map((v) => roundHalfToEven(v) + 0), expectedCodes);
  assert.equal(scales.getFloat32(0, true), 1);
  assert.equal(scales.getFloat32(4, true), 0);
  assert.ok(codes.subarray(32).every((c) => c === 0));
});

test("quantize_act_q8 matches the reference on values at and next to rounding ties, for many scales", () => {
  // Per block: element 0 sets amax, the rest sit on (k + 0.5)·scale or one f32 step beside it, where a kernel that
  // rounded differently from the reference (say x·(1/scale) instead of x/scale) would pick the other code.
  const cols = 32 * 64;
  const nTok = 3;
  const rng = createRng(99);
  const x = new Float32Array(nTok * cols);
  const bits = new Uint32Array(x.buffer);
  for (let block = 0; block < (nTok * cols) / 32; block++) {
    const amax = Math.fround(0.01 + 100 * rng());
    const scale = Math.fround(amax / 127);
    x[block * 32] = rng() < 0.5 ? amax : -amax;
    for (let j = 1; j < 32; j++) {
      const at = block * 32 + j;
      x[at] = (Math.floor(rng() * 253) - 126 + 0.5) * scale;
      bits[at] = bits[at]! + Math.floor(rng() * 3) - 1; // one step toward or away from zero, or none
    }
  }
  checkAgainstReference(x, nTok, cols, "near-tie values");
});
