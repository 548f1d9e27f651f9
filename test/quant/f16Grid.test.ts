import { test } from "node:test";
import assert from "node:assert/strict";
import { createF16Grid, f16RoundDown, f16RoundUp, quantizeF16Grid } from "../../src/quant/f16Grid.js";
import { f16ToF32 } from "../../src/quant/fp16.js";
import { reconstructCode, type UniformMethod } from "../../src/quant/uniform.js";
import { NumericError } from "../../src/util/errors.js";
import { createRandom, randomFloats } from "./seededRandom.js";

/** Every fp16 value is an exact double; the rounded value must bracket x with no fp16 strictly between. */
test("f16RoundDown / f16RoundUp bracket x by adjacent fp16 values", () => {
  const random = createRandom(7);
  const samples = [0, -0, 1e-9, -1e-9, 1, -1, 0.1, -0.1, 65504, -65504, 3.14159, 1e-5, -6.1e-5, 60000.5];
  for (let i = 0; i < 500; i++) samples.push((random() - 0.5) * 10 ** (random() * 8 - 4));
  for (const x of samples) {
    const down = f16ToF32(f16RoundDown(x));
    const up = f16ToF32(f16RoundUp(x));
    assert.ok(down <= x && x <= up, `${down} <= ${x} <= ${up}`);
    // adjacent: the f16 halfway point between them (computed in double) is not an fp16 value strictly inside
    if (down !== up) assert.ok(up - down <= Math.max(Math.abs(up), Math.abs(down)) * 2 ** -10 + 2 ** -24, `${down}, ${up}`);
    else assert.equal(down, x);
  }
});

test("rounding beyond the fp16 range is a NumericError", () => {
  assert.throws(() => f16RoundUp(70000), NumericError);
  assert.throws(() => f16RoundDown(-70000), NumericError);
});

for (const bits of [0, 1, 2, 3, 4, 5, 8]) {
  test(`minmax at ${bits} bits: fp16 grid covers the group, every value within scale/2, codes are the nearest point`, () => {
    const random = createRandom(100 + bits);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + Math.floor(random() * 70);
      const values = randomFloats(random, n, -3 * random() - 0.01, 5 * random() + 0.01);
      const codes = new Uint8Array(n);
      const grid = createF16Grid();
      quantizeF16Grid(values, 0, n, bits, "minmax", null, codes, grid);
      assert.equal(grid.scale, f16ToF32(grid.scaleBits));
      assert.equal(grid.zero, f16ToF32(grid.zeroBits));
      const min = Math.min(...values);
      const max = Math.max(...values);
      if (min === max) continue;
      assert.ok(grid.zero <= min && grid.zero + 2 ** bits * grid.scale >= max, "grid covers [min, max]");
      for (let i = 0; i < n; i++) {
        const x = values[i]!;
        const restored = reconstructCode(codes[i]!, grid.scale, grid.zero);
        assert.ok(Math.abs(restored - x) <= grid.scale / 2 + 1e-6 * Math.abs(x) + 1e-7, `value ${x} -> ${restored}`);
        // no other code reconstructs strictly closer (independent check of the encoding)
        for (let c = 0; c < 2 ** bits; c++) {
          assert.ok(Math.abs(reconstructCode(c, grid.scale, grid.zero) - x) >= Math.abs(restored - x) - 1e-6);
        }
      }
    }
  });
}

test("excluded values stay out of the range but still get an end-bin code", () => {
  const values = new Float32Array([0, 1, 2, 3, 100, -50]);
  const excluded = new Uint8Array([0, 0, 0, 0, 1, 1]);
  const codes = new Uint8Array(6);
  const grid = createF16Grid();
  quantizeF16Grid(values, 0, 6, 2, "minmax", excluded, codes, grid);
  assert.equal(grid.zero, 0);
  assert.equal(grid.scale, 0.75); // (3 - 0) / 4, exact in fp16
  assert.deepEqual([...codes], [0, 1, 2, 3, 3, 0]);
});

test("meanClip: the mean of the group sits on (within one fp16 step of) a grid point", () => {
  const random = createRandom(3);
  const methods: UniformMethod[] = ["meanClip"];
  for (const method of methods) {
    for (const bits of [1, 2, 4]) {
      const values = randomFloats(random, 64, -2, 3);
      const codes = new Uint8Array(64);
      const grid = createF16Grid();
      quantizeF16Grid(values, 0, 64, bits, method, null, codes, grid);
      const mean = values.reduce((a, b) => a + b, 0) / 64;
      const meanPoint = reconstructCode(2 ** bits / 2, grid.scale, grid.zero);
      assert.ok(Math.abs(meanPoint - mean) <= Math.abs(mean) * 2 ** -10 + 2 * grid.scale * 2 ** -10 + 1e-6, `${meanPoint} vs ${mean}`);
    }
  }
});

test("a constant group reconstructs its value to fp16 precision with scale 0", () => {
  const values = new Float32Array(8).fill(0.1);
  const codes = new Uint8Array(8).fill(9);
  const grid = createF16Grid();
  quantizeF16Grid(values, 0, 8, 3, "minmax", null, codes, grid);
  assert.equal(grid.scale, 0);
  assert.equal(grid.zero, f16ToF32(0x2e66)); // 0.1 rounded to nearest fp16 = 0.0999755859375
  assert.deepEqual([...codes], new Array(8).fill(0));
});

test("non-finite input is a NumericError", () => {
  const codes = new Uint8Array(3);
  assert.throws(() => quantizeF16Grid(new Float32Array([1, NaN, 2]), 0, 3, 2, "minmax", null, codes, createF16Grid()), NumericError);
});
