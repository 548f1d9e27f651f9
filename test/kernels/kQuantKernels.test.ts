import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { GGML_TYPES } from "../../src/format/gguf/ggmlTypes.js";
import { Q6_K_D_OFFSET } from "../../src/format/gguf/kQuants.js";
import {
  decodeKRowRef, decodeQ8KActivationsRef, interleaveWholeBlocksRef, matmulKQuantRef, matvecKQuantRef, type KQuantType,
} from "../../src/kernels/reference/kQuantRef.js";
import { dequantizeWeightRow, interleaveInPlace } from "../../src/model/interleavedRows.js";
import { f32ToF16 } from "../../src/quant/fp16.js";
import { assertWithin, createRng, F32_RELATIVE, heapF32, runSerialAndParallel, toHeap } from "./kernelTestSupport.js";
import { randomQ8KActivations } from "./quantTestData.js";

// The K-quant kernels (assembly/matvecKQuant.ts, matmulKQuant.ts, weightLayout.ts) against their float64 references
// (reference/kQuantRef.ts) on odd shapes (rows not multiples of 4, slices starting inside a group), serially, in
// uneven slices and on 2 threads. Tolerance: F32_RELATIVE x the sum of the magnitudes of the terms the kernel adds,
// Σ_i (|d·sc·q_i| + |dmin·m|)·|x_i| (the scale and min parts separately: they may cancel).

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const TYPES: readonly KQuantType[] = ["q4_k", "q5_k", "q6_k"];
const SHAPES: readonly [rows: number, cols: number][] = [[1, 256], [3, 512], [17, 256], [33, 768], [5, 256], [8, 512], [7, 256]];

/** f16 bits of a random scale: mixed signs, some subnormal. */
function randomHalf(rng: () => number): number {
  if (rng() < 0.1) return (1 + Math.floor(rng() * 0x3ff)) | (rng() < 0.5 ? 0x8000 : 0);
  return f32ToF16((rng() < 0.2 ? -1 : 1) * (0.0005 + 0.002 * rng()));
}

/** Random blocks: every byte pattern of codes, scales and mins is a valid block; d/dmin random f16. */
export function randomKWeights(rng: () => number, type: KQuantType, rows: number, cols: number): Uint8Array {
  const { blockSize, bytesPerBlock } = GGML_TYPES[type];
  const bytes = Uint8Array.from({ length: (rows * cols / blockSize) * bytesPerBlock }, () => Math.floor(rng() * 256));
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; at += bytesPerBlock) {
    if (type === "q6_k") {
      view.setUint16(at + Q6_K_D_OFFSET, randomHalf(rng), true);
    } else {
      view.setUint16(at, randomHalf(rng), true);
      view.setUint16(at + 2, randomHalf(rng), true);
    }
  }
  return bytes;
}

/** Σ_i (|scale part| + |min part|)·|x_i| per row (type-1: the row decoded with dmin zeroed is the scale part). */
function magnitudes(type: KQuantType, w: Uint8Array, x: Float64Array, rows: number, cols: number): Float64Array {
  const noMins = w.slice();
  const { bytesPerBlock } = GGML_TYPES[type];
  if (type !== "q6_k") for (let at = 0; at < noMins.length; at += bytesPerBlock) noMins[at + 2] = noMins[at + 3] = 0;
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const full = decodeKRowRef(type, w, r, cols);
    const scaled = decodeKRowRef(type, noMins, r, cols);
    for (let c = 0; c < cols; c++) sums[r] += (Math.abs(scaled[c]!) + Math.abs(full[c]! - scaled[c]!)) * Math.abs(x[c]!);
  }
  return sums;
}

for (const [index, type] of TYPES.entries()) {
  test(`matvec_${type} matches the reference (interleaved groups, tail rows, slices, 2 threads)`, () => {
    const heap = compute.heap;
    for (const [rows, cols] of SHAPES) {
      const rng = createRng(100 * index + rows * 1000 + cols);
      const w = randomKWeights(rng, type, rows, cols);
      const xq = randomQ8KActivations(rng, 1, cols);
      const expected = new Float32Array(rows);
      matvecKQuantRef(type, w, xq, expected, rows, cols);
      const magnitude = magnitudes(type, w, decodeQ8KActivationsRef(xq, 0, cols), rows, cols);
      const out = heapF32(heap, rows, "out");
      const wPtr = toHeap(heap, interleaveWholeBlocksRef(w, type, rows, cols), "w");
      runSerialAndParallel(compute, `matvec_${type}`, rows, [wPtr, toHeap(heap, xq, "xq"), out.ptr, cols, rows],
        () => out.view.fill(NaN),
        (mode) => assertWithin(out.view, expected, (r) => F32_RELATIVE * magnitude[r]!, `matvec_${type} ${rows}x${cols} ${mode}`));
    }
  });

  test(`matmul_${type} matches the reference for 1..37 tokens (4x4 tiles, leftover tokens and rows)`, () => {
    const heap = compute.heap;
    for (const [rows, cols] of [[3, 256], [17, 512], [8, 256], [33, 256]] as const) {
      for (const nTok of [1, 3, 4, 9, 37]) {
        const rng = createRng(7 + 100 * index + rows * 1000 + cols + nTok);
        const w = randomKWeights(rng, type, rows, cols);
        const xq = randomQ8KActivations(rng, nTok, cols);
        const expected = new Float32Array(nTok * rows);
        matmulKQuantRef(type, w, xq, expected, rows, cols, nTok);
        const magnitude: number[] = [];
        for (let t = 0; t < nTok; t++) magnitude.push(...magnitudes(type, w, decodeQ8KActivationsRef(xq, t, cols), rows, cols));
        const out = heapF32(heap, nTok * rows, "out");
        const wPtr = toHeap(heap, interleaveWholeBlocksRef(w, type, rows, cols), "w");
        runSerialAndParallel(compute, `matmul_${type}`, rows, [wPtr, toHeap(heap, xq, "xq"), out.ptr, cols, rows, nTok],
          () => out.view.fill(NaN),
          (mode) => assertWithin(out.view, expected, (i) => F32_RELATIVE * magnitude[i]!, `matmul_${type} ${rows}x${cols} x${nTok} ${mode}`));
      }
    }
  });

  test(`interleave_rows_${type} rewrites whole groups in place as the reference layout; rows read back plain`, () => {
    for (const [rows, cols] of SHAPES) {
      const rng = createRng(3 + rows * 31 + cols);
      const plain = randomKWeights(rng, type, rows, cols);
      const heap = compute.heap;
      const region = heap.alloc(plain.length + 64, "interleave test");
      const bytes = heap.u8(region);
      bytes.fill(0xa5);
      bytes.set(plain, 32);
      interleaveInPlace(compute, type, region.ptr + 32, rows, cols);
      const interleaved = bytes.slice(32, 32 + plain.length);
      assert.deepEqual(interleaved, interleaveWholeBlocksRef(plain, type, rows, cols), `${type} ${rows}x${cols}`);
      assert.ok(bytes.subarray(0, 32).every((b) => b === 0xa5) && bytes.subarray(32 + plain.length).every((b) => b === 0xa5), "guard bytes");
      heap.free(region);
      const out = new Float32Array(cols);
      for (let r = 0; r < rows; r++) {
        dequantizeWeightRow(type, "interleaved4", interleaved, rows, cols, r, out);
        assert.deepEqual(Array.from(out), Array.from(decodeKRowRef(type, plain, r, cols)), `${type} ${rows}x${cols} row ${r}`);
      }
    }
  });
}
