import { test, before, after } from "node:test";
import { Compute } from "../../src/kernels/Compute.js";
import { f16ToF32, bf16ToF32, f32ToBf16 } from "../../src/quant/fp16.js";
import { matvecF32Ref, matvecF16Ref, matvecBf16Ref, matvecQ8_0Ref, matvecQ4_0Ref } from "../../src/kernels/reference/matvecRef.js";
import { decodeQ8_0ActivationsRef, interleaveQuantRowsRef } from "../../src/kernels/reference/quantBlocksRef.js";
import {
  createRng, randomFloats, randomHalvesWithSubnormals, toHeap, heapF32, runSerialAndParallel, assertWithin, F32_RELATIVE,
} from "./kernelTestSupport.js";
import { randomQ8_0Activations, randomQ8_0Weights, randomQ4_0Weights, quantMagnitudes } from "./quantTestData.js";

// Every decode matvec against its float64 reference (src/kernels/reference/matvecRef.ts) on odd shapes, serially and
// split across 2 threads. Tolerance: F32_RELATIVE x Σ_c |W[r,c]·x[c]| per output (the scale of the rounding error of
// an f32 dot product, whatever the cancellation).

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const FLOAT_SHAPES: readonly [rows: number, cols: number][] = [[1, 1], [3, 5], [17, 64], [33, 172], [5, 7], [33, 257], [64, 12]];
const QUANT_SHAPES: readonly [rows: number, cols: number][] = [[1, 32], [3, 96], [17, 160], [33, 224], [5, 32], [64, 96], [8, 64], [7, 32]];

/** Σ_c |W[r,c]·x[c]| per row, from the decoded weights. */
function floatMagnitudes(weight: (i: number) => number, x: Float32Array, rows: number, cols: number): Float64Array {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[r] += Math.abs(weight(r * cols + c) * x[c]!);
  return sums;
}

function checkFloat(kind: "f32" | "f16" | "bf16", seed: number): void {
  const heap = compute.heap;
  for (const [rows, cols] of FLOAT_SHAPES) {
    const rng = createRng(seed + rows * 1000 + cols);
    const x = randomFloats(rng, cols);
    const expected = new Float32Array(rows);
    let wPtr: number;
    let weight: (i: number) => number;
    if (kind === "f32") {
      const w = randomFloats(rng, rows * cols);
      matvecF32Ref(w, x, expected, rows, cols);
      wPtr = toHeap(heap, w, "w");
      weight = (i) => w[i]!;
    } else if (kind === "f16") {
      const w = randomHalvesWithSubnormals(rng, rows * cols);
      matvecF16Ref(w, x, expected, rows, cols);
      wPtr = toHeap(heap, w, "w");
      weight = (i) => f16ToF32(w[i]!);
    } else {
      const w = Uint16Array.from(randomFloats(rng, rows * cols), f32ToBf16);
      matvecBf16Ref(w, x, expected, rows, cols);
      wPtr = toHeap(heap, w, "w");
      weight = (i) => bf16ToF32(w[i]!);
    }
    const magnitude = floatMagnitudes(weight, x, rows, cols);
    const out = heapF32(heap, rows, "out");
    runSerialAndParallel(compute, `matvec_${kind}`, rows, [wPtr, toHeap(heap, x, "x"), out.ptr, cols],
      () => out.view.fill(NaN),
      (mode) => assertWithin(out.view, expected, (r) => F32_RELATIVE * magnitude[r]!, `matvec_${kind} ${rows}x${cols} ${mode}`));
  }
}

test("matvec_f32 matches the reference", () => checkFloat("f32", 1));
test("matvec_f16 matches the reference (weights include subnormals)", () => checkFloat("f16", 2));
test("matvec_bf16 matches the reference", () => checkFloat("bf16", 3));

function checkQuant(kind: "q8_0" | "q4_0", seed: number): void {
  const heap = compute.heap;
  for (const [rows, cols] of QUANT_SHAPES) {
    const rng = createRng(seed + rows * 1000 + cols);
    const w = kind === "q8_0" ? randomQ8_0Weights(rng, rows, cols) : randomQ4_0Weights(rng, rows, cols);
    const xq = randomQ8_0Activations(rng, 1, cols);
    const expected = new Float32Array(rows);
    (kind === "q8_0" ? matvecQ8_0Ref : matvecQ4_0Ref)(w, xq, expected, rows, cols);
    const magnitude = quantMagnitudes(kind, w, decodeQ8_0ActivationsRef(xq, 0, cols), rows, cols);
    const out = heapF32(heap, rows, "out");
    // the reference reads the plain rows, the kernel their interleaved form (interleaveQuantRowsRef)
    const wInterleaved = toHeap(heap, interleaveQuantRowsRef(w, kind, rows, cols), "w");
    runSerialAndParallel(compute, `matvec_${kind}`, rows, [wInterleaved, toHeap(heap, xq, "xq"), out.ptr, cols, rows],
      () => out.view.fill(NaN),
      (mode) => assertWithin(out.view, expected, (r) => F32_RELATIVE * magnitude[r]!, `matvec_${kind} ${rows}x${cols} ${mode}`));
  }
}

test("matvec_q8_0 matches the reference (integer dot, subnormal and negative scales, -128 codes)", () => checkQuant("q8_0", 4));
test("matvec_q4_0 matches the reference", () => checkQuant("q4_0", 5));
