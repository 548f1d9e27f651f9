import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createGroupGrid,
  dequantizeGroup,
  quantizeMeanClip,
  quantizeMinMax,
  reconstructCode,
} from "../../src/quant/uniform.js";
import { midpointMaxError, uniformNoiseSigma } from "../../src/quant/errorBounds.js";
import { NumericError } from "../../src/util/errors.js";
import { assertConfigError } from "./assertConfigError.js";
import { createRandom, randomFloats } from "./seededRandom.js";

// Float32 rounding of scale, zero and the reconstruction adds a few ulps of the magnitudes involved on top of the
// ideal bounds; values in these tests stay within |x| ≤ 8, so 1e-5 absolute covers that and is far below any step.
const FLOAT32_SLACK = 1e-5;

function quantizeAndReconstruct(
  quantize: typeof quantizeMinMax,
  values: Float32Array,
  bits: number,
  excluded: Uint8Array | null = null,
): { codes: Uint8Array; restored: Float32Array; scale: number; zero: number } {
  const codes = new Uint8Array(values.length);
  const grid = createGroupGrid();
  quantize(values, 0, values.length, bits, excluded, codes, grid);
  const restored = new Float32Array(values.length);
  dequantizeGroup(codes, values.length, bits, grid.scale, grid.zero, restored);
  return { codes, restored, ...grid };
}

test("minmax: values at bin centres are reconstructed exactly, the ends within half a step", () => {
  const random = createRandom(1);
  for (let bits = 1; bits <= 8; bits++) {
    // Grid on [-1, 1]: step 2/2^B, centres -1 + (k + 0.5)·step; all powers-of-two arithmetic, exact in float32.
    const step = 2 / 2 ** bits;
    const values = new Float32Array(34);
    values[0] = -1;
    values[1] = 1;
    for (let i = 2; i < values.length; i++) values[i] = -1 + (Math.floor(random() * 2 ** bits) + 0.5) * step;
    const { codes, restored, scale, zero } = quantizeAndReconstruct(quantizeMinMax, values, bits);
    assert.equal(scale, step, `bits ${bits}: scale`);
    assert.equal(zero, -1, `bits ${bits}: zero`);
    for (let i = 2; i < values.length; i++) {
      assert.equal(restored[i], values[i], `bits ${bits}: centre ${values[i]}`);
      assert.equal(codes[i], (values[i]! + 1) / step - 0.5, `bits ${bits}: code of ${values[i]}`);
    }
    assert.equal(restored[0], -1 + step / 2);
    assert.equal(restored[1], 1 - step / 2);
  }
});

test("minmax: every value within half a step, codes monotonic, for every width 0..8", () => {
  const random = createRandom(2);
  for (let bits = 0; bits <= 8; bits++) {
    for (const length of [1, 7, 64, 65, 128]) {
      const values = randomFloats(random, length, -3, 5);
      const { codes, restored, scale } = quantizeAndReconstruct(quantizeMinMax, values, bits);
      let min = Infinity;
      let max = -Infinity;
      for (const x of values) [min, max] = [Math.min(min, x), Math.max(max, x)];
      assert.ok(Math.abs(scale - (max - min) / 2 ** bits) <= 1e-6 * scale, `bits ${bits}: scale is range/2^B`);
      for (let i = 0; i < length; i++) {
        const error = Math.abs(restored[i]! - values[i]!);
        assert.ok(error <= midpointMaxError(scale) + FLOAT32_SLACK, `bits ${bits}, n ${length}: error ${error}`);
        for (let j = 0; j < length; j++) {
          if (values[i]! < values[j]!) assert.ok(codes[i]! <= codes[j]!, `bits ${bits}: codes not monotonic`);
        }
      }
    }
  }
});

test("minmax: B = 0 turns every value into the midpoint (min + max)/2", () => {
  const values = Float32Array.of(0.25, -1.5, 3, 2, 0);
  const { codes, restored } = quantizeAndReconstruct(quantizeMinMax, values, 0);
  assert.deepEqual([...codes], [0, 0, 0, 0, 0]);
  for (const x of restored) assert.equal(x, 0.75); // (−1.5 + 3) / 2
});

test("constant groups give scale 0 and exact values, no NaN, for both methods", () => {
  for (const quantize of [quantizeMinMax, quantizeMeanClip]) {
    for (const bits of [0, 1, 4, 8]) {
      const values = new Float32Array(16).fill(0.7);
      const { codes, restored, scale } = quantizeAndReconstruct(quantize, values, bits);
      assert.equal(scale, 0);
      assert.ok(codes.every((q) => q === 0));
      for (const x of restored) assert.equal(x, Math.fround(0.7), `${quantize.name}, bits ${bits}`);
    }
  }
});

test("minmax: error std of uniform data is step/sqrt(12) within 10%", () => {
  // Large groups make the two end values (error exactly step/2) negligible; expectation from the uniform model.
  const random = createRandom(3);
  for (const bits of [2, 4, 6]) {
    let sumSquares = 0;
    let samples = 0;
    for (let group = 0; group < 100; group++) {
      const values = randomFloats(random, 2000, 0, 1);
      const { restored, scale } = quantizeAndReconstruct(quantizeMinMax, values, bits);
      for (let i = 0; i < values.length; i++) sumSquares += ((restored[i]! - values[i]!) / scale) ** 2;
      samples += values.length;
    }
    const normalisedStd = Math.sqrt(sumSquares / samples);
    const expected = uniformNoiseSigma(1);
    assert.ok(Math.abs(normalisedStd / expected - 1) < 0.1, `bits ${bits}: std ${normalisedStd} vs ${expected}`);
  }
});

test("excluded values are left out of the range but still get end codes", () => {
  const values = Float32Array.of(-100, 0, 0.5, 1, 100, 0.25);
  const excluded = Uint8Array.of(1, 0, 0, 0, 1, 0);
  const { codes, scale, zero } = quantizeAndReconstruct(quantizeMinMax, values, 2, excluded);
  assert.equal(scale, 0.25); // (1 − 0) / 4
  assert.equal(zero, 0);
  assert.deepEqual([...codes], [0, 0, 2, 3, 3, 1]);
});

test("meanClip: hand-worked example from the authors' formula round((x − mean)/step), clamped to [−2, 1]", () => {
  // values 0 1 2 3 10: mean 3.2, step (10 − 0)/4 = 2.5; (x − mean)/step = −1.28 −0.88 −0.48 −0.08 2.72
  // -> k = −1 −1 0 0 1 (clamped from 3) -> x^ = mean + k·step = 0.7 0.7 3.2 3.2 5.7
  const values = Float32Array.of(0, 1, 2, 3, 10);
  const { restored, scale } = quantizeAndReconstruct(quantizeMeanClip, values, 2);
  assert.equal(scale, 2.5);
  const expected = [0.7, 0.7, 3.2, 3.2, 5.7];
  for (let i = 0; i < values.length; i++) {
    assert.ok(Math.abs(restored[i]! - expected[i]!) < 1e-6, `x ${values[i]}: got ${restored[i]}, want ${expected[i]}`);
  }
});

test("meanClip: error ≤ step/2 inside its grid, end points outside it, B = 0 gives the mean", () => {
  const random = createRandom(4);
  for (let bits = 0; bits <= 8; bits++) {
    // Skewed data (exponential), so the mean sits well off the midpoint and clipping happens at the top.
    const values = new Float32Array(200);
    for (let i = 0; i < values.length; i++) values[i] = -Math.log(1 - random());
    const { restored, scale, zero } = quantizeAndReconstruct(quantizeMeanClip, values, bits);
    let [min, max, sum] = [Infinity, -Infinity, 0];
    for (const x of values) [min, max, sum] = [Math.min(min, x), Math.max(max, x), sum + x];
    const mean = sum / values.length;
    assert.ok(Math.abs(scale - (max - min) / 2 ** bits) <= 1e-6 * scale, `bits ${bits}: step is range/2^B`);
    // The authors' grid has the mean on a grid point: code 2^(B−1) (for B ≥ 1) reconstructs to it.
    if (bits > 0) {
      const centre = reconstructCode(2 ** (bits - 1), scale, zero);
      assert.ok(Math.abs(centre - mean) <= FLOAT32_SLACK, `bits ${bits}: grid point ${centre} vs mean ${mean}`);
    }
    const gridTop = zero + 2 ** bits * scale;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const error = Math.abs(restored[i]! - x);
      if (x >= zero && x <= gridTop) {
        assert.ok(error <= scale / 2 + FLOAT32_SLACK, `bits ${bits}: x ${x} inside, error ${error}`);
      } else {
        const nearestEnd = x < zero ? zero + scale / 2 : gridTop - scale / 2;
        assert.ok(Math.abs(restored[i]! - nearestEnd) <= FLOAT32_SLACK, `bits ${bits}: x ${x} clipped`);
      }
    }
    if (bits === 0) for (const x of restored) assert.ok(Math.abs(x - mean) <= FLOAT32_SLACK, `B = 0: ${x} vs ${mean}`);
  }
});

test("reconstructCode is zero + (q + 0.5)·scale", () => {
  assert.equal(reconstructCode(3, 0.5, -1), 0.75);
  assert.equal(reconstructCode(0, 2, 10), 11);
});

test("non-finite values and bad widths are rejected with typed errors", () => {
  const codes = new Uint8Array(3);
  const grid = createGroupGrid();
  assert.throws(() => quantizeMinMax(Float32Array.of(1, NaN, 2), 0, 3, 4, null, codes, grid), NumericError);
  assert.throws(() => quantizeMeanClip(Float32Array.of(1, Infinity, 2), 0, 3, 4, null, codes, grid), NumericError);
  for (const bits of [9, -1, 1.5]) {
    assertConfigError(() => quantizeMinMax(Float32Array.of(1, 2, 3), 0, 3, bits, null, codes, grid), "bits", "0..8");
    assertConfigError(() => dequantizeGroup(codes, 3, bits, 1, 0, new Float32Array(3)), "bits", "0..8");
  }
  assertConfigError(() => dequantizeGroup(Uint8Array.of(4), 1, 2, 1, 0, new Float32Array(1)), "codes[0]", "0..3");
  assertConfigError(() => quantizeMinMax(new Float32Array(4), 2, 3, 4, null, codes, grid), "values", "room for 3");
});

test("quantizers read only their group and dequantizeGroup writes only its span", () => {
  const values = Float32Array.of(1000, 0, 1, 2, 3, -1000);
  const codes = new Uint8Array(4);
  const grid = createGroupGrid();
  quantizeMinMax(values, 1, 4, 2, null, codes, grid);
  assert.deepEqual([grid.zero, grid.scale], [0, 0.75]);
  const out = new Float32Array(6).fill(-7);
  dequantizeGroup(codes, 4, 2, grid.scale, grid.zero, out, 1);
  assert.deepEqual([...out], [-7, 0.375, 1.125, 1.875, 2.625, -7]);
});
