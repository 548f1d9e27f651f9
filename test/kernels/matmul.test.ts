import { test, before, after } from "node:test";
import { Compute } from "../../src/kernels/Compute.js";
import { f16ToF32, bf16ToF32, f32ToBf16 } from "../../src/quant/fp16.js";
import {
  matmulF32Ref, matmulF16Ref, matmulBf16Ref, matmulQ8_0Ref, matmulQ4_0Ref,
} from "../../src/kernels/reference/matmulRef.js";
import { decodeQ8_0ActivationsRef, interleaveQuantRowsRef } from "../../src/kernels/reference/quantBlocksRef.js";
import {
  createRng, randomFloats, randomHalvesWithSubnormals, toHeap, heapF32, runSerialAndParallel, assertWithin, F32_RELATIVE,
} from "./kernelTestSupport.js";
import { randomQ8_0Activations, randomQ8_0Weights, randomQ4_0Weights, quantMagnitudes } from "./quantTestData.js";

// Batched (prefill) matmuls against the per-token reference, out: [nTok, rows]. Token counts cover the register
// tiles (4 tokens), their leftovers (1-3 tokens) and more than one token chunk (32); row counts cover the row tiles
// and leftover rows. Tolerance: F32_RELATIVE x Σ_c |W[r,c]·x[t,c]| per output.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const TOKENS = [1, 3, 5, 8, 37];
const FLOAT_SHAPES: readonly [rows: number, cols: number][] = [[1, 5], [3, 64], [17, 172], [33, 7]];
const QUANT_SHAPES: readonly [rows: number, cols: number][] = [[1, 32], [3, 96], [17, 160], [33, 224], [8, 64]];

function floatMagnitudes(weight: (i: number) => number, x: Float32Array, rows: number, cols: number, nTok: number): Float64Array {
  const sums = new Float64Array(nTok * rows);
  for (let t = 0; t < nTok; t++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) sums[t * rows + r] += Math.abs(weight(r * cols + c) * x[t * cols + c]!);
    }
  }
  return sums;
}

function checkFloat(kind: "f32" | "f16" | "bf16", seed: number): void {
  const heap = compute.heap;
  for (const nTok of TOKENS) {
    for (const [rows, cols] of FLOAT_SHAPES) {
      const rng = createRng(seed + nTok * 7919 + rows * 101 + cols);
      const x = randomFloats(rng, nTok * cols);
      const expected = new Float32Array(nTok * rows);
      let wPtr: number;
      let weight: (i: number) => number;
      if (kind === "f32") {
        const w = randomFloats(rng, rows * cols);
        matmulF32Ref(w, x, expected, rows, cols, nTok);
        wPtr = toHeap(heap, w, "w");
        weight = (i) => w[i]!;
      } else if (kind === "f16") {
        const w = randomHalvesWithSubnormals(rng, rows * cols);
        matmulF16Ref(w, x, expected, rows, cols, nTok);
        wPtr = toHeap(heap, w, "w");
        weight = (i) => f16ToF32(w[i]!);
      } else {
        const w = Uint16Array.from(randomFloats(rng, rows * cols), f32ToBf16);
        matmulBf16Ref(w, x, expected, rows, cols, nTok);
        wPtr = toHeap(heap, w, "w");
        weight = (i) => bf16ToF32(w[i]!);
      }
      const magnitude = floatMagnitudes(weight, x, rows, cols, nTok);
      const out = heapF32(heap, nTok * rows, "out");
      runSerialAndParallel(compute, `matmul_${kind}`, rows, [wPtr, toHeap(heap, x, "x"), out.ptr, cols, rows, nTok],
        () => out.view.fill(NaN),
        (mode) => assertWithin(out.view, expected, (i) => F32_RELATIVE * magnitude[i]!, `matmul_${kind} ${rows}x${cols} nTok ${nTok} ${mode}`));
    }
  }
}

test("matmul_f32 matches the reference", () => checkFloat("f32", 11));
test("matmul_f16 matches the reference (weights include subnormals)", () => checkFloat("f16", 12));
test("matmul_bf16 matches the reference", () => checkFloat("bf16", 13));

function checkQuant(kind: "q8_0" | "q4_0", seed: number): void {
  const heap = compute.heap;
  for (const nTok of TOKENS) {
    for (const [rows, cols] of QUANT_SHAPES) {
      const rng = createRng(seed + nTok * 7919 + rows * 101 + cols);
      const w = kind === "q8_0" ? randomQ8_0Weights(rng, rows, cols) : randomQ4_0Weights(rng, rows, cols);
      const xq = randomQ8_0Activations(rng, nTok, cols);
      const expected = new Float32Array(nTok * rows);
      (kind === "q8_0" ? matmulQ8_0Ref : matmulQ4_0Ref)(w, xq, expected, rows, cols, nTok);
      const magnitude = new Float64Array(nTok * rows);
      for (let t = 0; t < nTok; t++) {
        magnitude.set(quantMagnitudes(kind, w, decodeQ8_0ActivationsRef(xq, t, cols), rows, cols), t * rows);
      }
      const out = heapF32(heap, nTok * rows, "out");
      // the reference reads the plain rows, the kernel their interleaved form (interleaveQuantRowsRef)
      const wInterleaved = toHeap(heap, interleaveQuantRowsRef(w, kind, rows, cols), "w");
      runSerialAndParallel(compute, `matmul_${kind}`, rows, [wInterleaved, toHeap(heap, xq, "xq"), out.ptr, cols, rows, nTok],
        () => out.view.fill(NaN),
        (mode) => assertWithin(out.view, expected, (i) => F32_RELATIVE * magnitude[i]!, `matmul_${kind} ${rows}x${cols} nTok ${nTok} ${mode}`));
    }
  }
}

test("matmul_q8_0 matches the reference", () => checkQuant("q8_0", 14));
test("matmul_q4_0 matches the reference", () => checkQuant("q4_0", 15));
