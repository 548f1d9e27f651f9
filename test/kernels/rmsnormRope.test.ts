import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { rmsnormRef, ropeNeoxRef, ropeRef } from "../../src/kernels/reference/rowOpsRef.js";
import { createRng, randomFloats, toHeap, heapF32, runSerialAndParallel, assertWithin } from "./kernelTestSupport.js";

// rmsnorm and rope against their float64 references (src/kernels/reference/rowOpsRef.ts), rows = tokens, serially and
// on 2 threads. Both are a few f32 roundings per element, so the tolerance is 1e-6 of the element's magnitude.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const ELEMENT_RELATIVE = 1e-6;

test("rmsnorm matches the reference, into a separate output and in place", () => {
  const heap = compute.heap;
  for (const nTok of [1, 3, 5]) {
    for (const dim of [3, 7, 64, 172]) {
      const rng = createRng(nTok * 1000 + dim);
      const x = randomFloats(rng, nTok * dim, 3);
      const weight = randomFloats(rng, dim, 2);
      const expected = new Float32Array(nTok * dim);
      rmsnormRef(x, weight, expected, nTok, dim, 1e-5);
      const input = heapF32(heap, nTok * dim, "x");
      const out = heapF32(heap, nTok * dim, "out");
      const weightPtr = toHeap(heap, weight, "weight");
      const tolerance = (i: number) => ELEMENT_RELATIVE * Math.abs(expected[i]!);
      runSerialAndParallel(compute, "rmsnorm", nTok, [input.ptr, weightPtr, out.ptr, dim, 1e-5],
        () => {
          input.view.set(x);
          out.view.fill(NaN);
        },
        (mode) => assertWithin(out.view, expected, tolerance, `rmsnorm nTok ${nTok} dim ${dim} ${mode}`));
      runSerialAndParallel(compute, "rmsnorm", nTok, [input.ptr, weightPtr, input.ptr, dim, 1e-5],
        () => input.view.set(x),
        (mode) => assertWithin(input.view, expected, tolerance, `rmsnorm in place nTok ${nTok} dim ${dim} ${mode}`));
    }
  }
});

/** [seqLen, headDim/2, 2] (cos, sin) of pos·theta^(-2i/headDim), the llama rotary table. */
function rotaryTable(seqLen: number, headDim: number, theta: number): Float32Array {
  const table = new Float32Array(seqLen * headDim);
  for (let pos = 0; pos < seqLen; pos++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = pos * theta ** ((-2 * i) / headDim);
      table[pos * headDim + 2 * i] = Math.cos(angle);
      table[pos * headDim + 2 * i + 1] = Math.sin(angle);
    }
  }
  return table;
}

test("rope matches the reference for head sizes with and without a pair tail", () => {
  const heap = compute.heap;
  const nHeads = 3;
  const pos0 = 5;
  for (const nTok of [1, 3, 5]) {
    for (const headDim of [6, 8, 64, 72]) {
      const rng = createRng(nTok * 1000 + headDim);
      const x = randomFloats(rng, nTok * nHeads * headDim, 2);
      const table = rotaryTable(pos0 + nTok, headDim, 10000);
      const expected = x.slice();
      ropeRef(expected, table, pos0, nTok, nHeads, headDim);
      const input = heapF32(heap, x.length, "x");
      // each output mixes one pair (a, b) with |cos|, |sin| <= 1
      const tolerance = (i: number) => ELEMENT_RELATIVE * (Math.abs(x[i & ~1]!) + Math.abs(x[i | 1]!));
      runSerialAndParallel(compute, "rope", nTok, [input.ptr, toHeap(heap, table, "cosSin"), pos0, nHeads, headDim],
        () => input.view.set(x),
        (mode) => assertWithin(input.view, expected, tolerance, `rope nTok ${nTok} headDim ${headDim} ${mode}`));
    }
  }
});

test("rope_neox rotates (x[i], x[i + D/2]) like the reference, with and without a SIMD tail", () => {
  const heap = compute.heap;
  const nHeads = 3;
  const pos0 = 7;
  for (const nTok of [1, 4]) {
    for (const headDim of [6, 8, 64, 72, 128]) {
      const rng = createRng(nTok * 977 + headDim);
      const x = randomFloats(rng, nTok * nHeads * headDim, 2);
      const table = rotaryTable(pos0 + nTok, headDim, 1e6);
      const expected = x.slice();
      ropeNeoxRef(expected, table, pos0, nTok, nHeads, headDim);
      // the reference differs from the interleaved one unless the kernel reads the NeoX pairs
      const interleaved = x.slice();
      ropeRef(interleaved, table, pos0, nTok, nHeads, headDim);
      assert.ok(interleaved.some((v, i) => Math.abs(v - expected[i]!) > 1e-3), "NeoX and interleaved layouts differ");
      const input = heapF32(heap, x.length, "x");
      const half = headDim / 2;
      const partner = (i: number) => (i % headDim < half ? i + half : i - half);
      const tolerance = (i: number) => ELEMENT_RELATIVE * (Math.abs(x[i]!) + Math.abs(x[partner(i)]!));
      runSerialAndParallel(compute, "rope_neox", nTok, [input.ptr, toHeap(heap, table, "cosSin"), pos0, nHeads, headDim],
        () => input.view.set(x),
        (mode) => assertWithin(input.view, expected, tolerance, `rope_neox nTok ${nTok} headDim ${headDim} ${mode}`));
    }
  }
});
