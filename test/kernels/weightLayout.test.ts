import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { decodeQ8_0RowRef, decodeQ4_0RowRef, interleaveQuantRowsRef } from "../../src/kernels/reference/quantBlocksRef.js";
import { dequantizeWeightRow, interleaveInPlace } from "../../src/model/interleavedRows.js";
import { createRng } from "./kernelTestSupport.js";
import { randomQ8_0Weights, randomQ4_0Weights } from "./quantTestData.js";

// The in-place interleave kernels (assembly/weightLayout.ts) against the byte-by-byte reference layout
// (interleaveQuantRowsRef), and row lookups on interleaved matrices against the plain rows' reference decoding.

let compute: Compute;
before(async () => {
  compute = await Compute.create(1);
});
after(() => compute.dispose());

const SHAPES: readonly [rows: number, cols: number][] = [[1, 32], [4, 32], [7, 96], [12, 64], [33, 160]];

for (const kind of ["q8_0", "q4_0"] as const) {
  test(`interleave_rows_${kind} rewrites whole groups in place as the reference layout, leaving the tail rows`, () => {
    for (const [rows, cols] of SHAPES) {
      const rng = createRng(rows * 31 + cols);
      const plain = kind === "q8_0" ? randomQ8_0Weights(rng, rows, cols) : randomQ4_0Weights(rng, rows, cols);
      const heap = compute.heap;
      // guard bytes on both sides catch writes outside the matrix
      const region = heap.alloc(plain.length + 64, "interleave test");
      const bytes = heap.u8(region);
      bytes.fill(0xa5);
      bytes.set(plain, 32);
      interleaveInPlace(compute, kind, region.ptr + 32, rows, cols);
      assert.deepEqual(bytes.slice(32, 32 + plain.length), interleaveQuantRowsRef(plain, kind, rows, cols), `${kind} ${rows}x${cols}`);
      assert.ok(bytes.subarray(0, 32).every((b) => b === 0xa5) && bytes.subarray(32 + plain.length).every((b) => b === 0xa5), "guard bytes");
      heap.free(region);
    }
  });

  test(`dequantizeWeightRow reads every row of an interleaved ${kind} matrix as its plain row`, () => {
    for (const [rows, cols] of SHAPES) {
      const rng = createRng(rows * 17 + cols);
      const plain = kind === "q8_0" ? randomQ8_0Weights(rng, rows, cols) : randomQ4_0Weights(rng, rows, cols);
      const interleaved = interleaveQuantRowsRef(plain, kind, rows, cols);
      const out = new Float32Array(cols);
      for (let r = 0; r < rows; r++) {
        dequantizeWeightRow(kind, "interleaved4", interleaved, rows, cols, r, out);
        const expected = (kind === "q8_0" ? decodeQ8_0RowRef : decodeQ4_0RowRef)(plain, r, cols);
        // f16 scale x small integer code: exact in f32
        assert.deepEqual(Array.from(out), Array.from(expected, Math.fround), `${kind} ${rows}x${cols} row ${r}`);
      }
    }
  });
}

test("dequantizeWeightRow names a row outside the matrix", () => {
  assert.throws(() => dequantizeWeightRow("q8_0", "interleaved4", new Uint8Array(4 * 34), 4, 32, 4, new Float32Array(32)), /row 4 is outside/);
});
