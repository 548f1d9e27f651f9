import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { softmaxRef, swigluRef, addRef, addBiasRef } from "../../src/kernels/reference/rowOpsRef.js";
import { createRng, randomFloats, toHeap, heapF32, runSerialAndParallel, assertWithin } from "./kernelTestSupport.js";

// softmax, swiglu and add against float64 references with Math.exp (src/kernels/reference/rowOpsRef.ts), serially
// and on 2 threads. The kernels' e^x is a polynomial with relative error < 5e-7 (assembly/lib/exp.ts), so results
// must agree to 2e-6 relative, plus what f32 inputs impose: softmax rounds x - max to f32 before the exponential,
// a relative error of up to |x - max|·2^-24 in e^(x - max). Results whose true size is below 1e-37 may come out as 0
// (e^x flushes below e^-87 and saturates above e^88.37, so that no output is a denormal).

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const EXP_RELATIVE = 2e-6;
const FLUSH_ABSOLUTE = 1e-37;

test("softmax matches the reference, masks -Infinity to exactly 0 and zeros an all-masked row", () => {
  const heap = compute.heap;
  for (const rows of [1, 3, 17]) {
    for (const cols of [1, 7, 100, 1000]) {
      const rng = createRng(rows * 10000 + cols);
      // logits spread over ±20, with a tenth masked, and the last row fully masked when there are several rows
      const x = randomFloats(rng, rows * cols, 20).map((v) => (rng() < 0.1 ? -Infinity : v));
      if (cols > 1) x[0] = 0; // at least one unmasked entry in row 0
      if (rows > 1) x.fill(-Infinity, (rows - 1) * cols);
      const expected = x.slice();
      softmaxRef(expected, rows, cols);
      const buffer = heapF32(heap, x.length, "x");
      runSerialAndParallel(compute, "softmax", rows, [buffer.ptr, cols],
        () => buffer.view.set(x),
        (mode) => {
          const what = `softmax ${rows}x${cols} ${mode}`;
          const rowMax = (i: number) => Math.max(...x.subarray(i - (i % cols), i - (i % cols) + cols));
          const tolerance = (i: number) =>
            x[i] === -Infinity ? 0 : (EXP_RELATIVE + Math.abs(x[i]! - rowMax(i)) * 2 ** -24) * expected[i]! + FLUSH_ABSOLUTE;
          assertWithin(buffer.view, expected, tolerance, what);
          x.forEach((v, i) => v === -Infinity && assert.ok(buffer.view[i] === 0, `${what}: masked entry ${i} is ${buffer.view[i]}`));
        });
    }
  }
});

test("softmax's e^x has relative error below 1e-6 on [-87, 0]", () => {
  // row [0, x]: p1 = e^x / (1 + e^x), so p1's relative error is e^x's, to first order
  const heap = compute.heap;
  const points = 20000;
  const x = new Float32Array(2 * points);
  for (let i = 0; i < points; i++) x[2 * i + 1] = -87 * (i / (points - 1));
  const buffer = heapF32(heap, x.length, "x");
  buffer.view.set(x);
  compute.kernels.softmax(0, points, buffer.ptr, 2);
  let worst = 0;
  for (let i = 0; i < points; i++) {
    const e = Math.exp(x[2 * i + 1]!);
    worst = Math.max(worst, Math.abs(buffer.view[2 * i + 1]! / (e / (1 + e)) - 1));
  }
  assert.ok(worst < 1e-6, `worst relative error ${worst}`);
});

test("swiglu matches the reference, including saturated gates", () => {
  const heap = compute.heap;
  for (const n of [1, 7, 100, 1001]) {
    const rng = createRng(n);
    const gate = randomFloats(rng, n, 10);
    gate.set([-100, 100, -88.5, 88.5, 0, -0, 1e-3, -1e-3].slice(0, n));
    const up = randomFloats(rng, n, 2);
    const expected = gate.slice();
    swigluRef(expected, up, n);
    const gateBuffer = heapF32(heap, n, "gate");
    // below g = -88.37, e^-g saturates to Infinity and silu(g) to -0, where |silu(g)| < 4e-37
    const tolerance = (i: number) => EXP_RELATIVE * Math.abs(expected[i]!) + 4e-37 * Math.abs(up[i]!);
    runSerialAndParallel(compute, "swiglu", n, [gateBuffer.ptr, toHeap(heap, up, "up")],
      () => gateBuffer.view.set(gate),
      (mode) => assertWithin(gateBuffer.view, expected, tolerance, `swiglu n ${n} ${mode}`));
  }
});

test("add matches the reference exactly", () => {
  const heap = compute.heap;
  for (const n of [1, 7, 100, 1001]) {
    const rng = createRng(n + 5);
    const x = randomFloats(rng, n);
    const y = randomFloats(rng, n);
    const expected = x.slice();
    addRef(expected, y, n);
    const xBuffer = heapF32(heap, n, "x");
    runSerialAndParallel(compute, "add", n, [xBuffer.ptr, toHeap(heap, y, "y")],
      () => xBuffer.view.set(x),
      (mode) => assertWithin(xBuffer.view, expected, () => 0, `add n ${n} ${mode}`));
  }
});

test("add_bias adds one bias row to every token's row (exact: one f32 addition per element)", () => {
  const heap = compute.heap;
  for (const nTok of [1, 5]) {
    for (const cols of [3, 64, 131]) {
      const rng = createRng(nTok * 313 + cols);
      const x = randomFloats(rng, nTok * cols, 4);
      const bias = randomFloats(rng, cols, 1);
      const expected = x.slice();
      addBiasRef(expected, bias, nTok, cols);
      const buffer = heapF32(heap, x.length, "x");
      runSerialAndParallel(compute, "add_bias", nTok, [buffer.ptr, toHeap(heap, bias, "bias"), cols],
        () => buffer.view.set(x),
        (mode) => assertWithin(buffer.view, expected, () => 0, `add_bias ${nTok}x${cols} ${mode}`));
    }
  }
});
