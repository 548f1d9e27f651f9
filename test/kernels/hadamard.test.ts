import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { hadamardRowsRef, signFlipRef } from "../../src/kernels/reference/hadamardRef.js";
import { assertWithin, createRng, heapF32, randomFloats, runSerialAndParallel } from "./kernelTestSupport.js";

/**
 * The randomized Walsh-Hadamard rotation of rotated KV caches (assembly/hadamard.ts) against its reference (the
 * plain O(D²) matrix product in float64, hadamardRef.ts), and the properties the caches rely on: orthonormal (a
 * round trip returns the input to 1e-6, norms are kept, R·Rᵀ = I) and seeded (the same signs every run, different
 * per layer and head).
 */
let one: Compute;
let two: Compute;
before(async () => {
  one = await Compute.create(1);
  two = await Compute.create(2);
});
after(() => {
  one.dispose();
  two.dispose();
});

const SEED = 0x5eed11;

for (const D of [1, 2, 4, 8, 16, 64, 128]) {
  for (const inverse of [false, true]) {
    test(`hadamard_rows D=${D}${inverse ? " inverse" : ""}: equals the reference on 13 rows of 3 heads, 1 and 2 threads`, () => {
      const rows = 13;
      const input = randomFloats(createRng(D + (inverse ? 100 : 0)), rows * D, 3);
      const want = input.slice();
      hadamardRowsRef(want, rows, D, SEED, 2, 1, 3, inverse);
      for (const compute of [one, two]) {
        const x = heapF32(compute.heap, rows * D, "test rows");
        try {
          const magnitude = Math.sqrt(input.reduce((s, v) => s + v * v, 0) / rows);
          runSerialAndParallel(compute, "hadamard_rows", rows, [x.ptr, D, SEED, 2, 1, 3, inverse ? 1 : 0], () => x.view.set(input), (mode) =>
            assertWithin(x.view, want, () => 2e-6 * magnitude + 1e-7, `D=${D} ${mode}`),
          );
        } finally {
          compute.heap.free({ ptr: x.ptr, byteLength: rows * D * 4 });
        }
      }
    });
  }
}

test("the rotation is orthonormal: round trip to 1e-6, norms kept, R·Rᵀ = I (wasm and reference)", () => {
  const D = 64;
  const rows = 9;
  const input = randomFloats(createRng(5), rows * D, 10);
  const x = heapF32(two.heap, rows * D, "test rows");
  try {
    x.view.set(input);
    two.kernels.hadamard_rows(0, rows, x.ptr, D, SEED, 3, 0, 2, 0);
    for (let r = 0; r < rows; r++) {
      const norm = (v: Float32Array) => Math.hypot(...v.subarray(r * D, (r + 1) * D));
      assert.ok(Math.abs(norm(x.view) - norm(input)) <= 1e-6 * norm(input), `row ${r} norm ${norm(x.view)} vs ${norm(input)}`);
    }
    assert.ok(x.view.some((v, i) => Math.abs(v - input[i]!) > 0.1), "the rotation moved the values");
    two.kernels.hadamard_rows(0, rows, x.ptr, D, SEED, 3, 0, 2, 1);
    const scale = Math.max(...input.map(Math.abs));
    assertWithin(x.view, input, () => 1e-6 * scale, "forward then inverse");
  } finally {
    two.heap.free({ ptr: x.ptr, byteLength: rows * D * 4 });
  }
  // R·Rᵀ = I: the images of the unit vectors are orthonormal (reference, float64 products)
  const basis = new Float32Array(D * D);
  for (let i = 0; i < D; i++) basis[i * D + i] = 1;
  hadamardRowsRef(basis, D, D, SEED, 0, 4, 1, false);
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += basis[i * D + d]! * basis[j * D + d]!;
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) <= 1e-6, `columns ${i}, ${j}: ${dot}`);
    }
  }
});

test("the sign flips are seeded: about half negative, different per layer and per head, the same every run", () => {
  const D = 64;
  const signs = (seed: number, layer: number, head: number) => Array.from({ length: D }, (_, d) => signFlipRef(seed, layer, head, d));
  const flips = signs(SEED, 0, 0).filter(Boolean).length;
  assert.ok(flips > 16 && flips < 48, `${flips} of 64 negated`);
  assert.notDeepEqual(signs(SEED, 0, 0), signs(SEED, 0, 1));
  assert.notDeepEqual(signs(SEED, 0, 0), signs(SEED, 1, 0));
  assert.notDeepEqual(signs(SEED, 0, 0), signs(SEED + 1, 0, 0));
  assert.deepEqual(signs(SEED, 2, 1), signs(SEED, 2, 1));
});
