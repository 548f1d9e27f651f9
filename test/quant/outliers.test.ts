import { test } from "node:test";
import assert from "node:assert/strict";
import {
  markOutliers,
  outlierCountPerSide,
  patchOutliers,
  selectOutliers,
  type PositionArray,
} from "../../src/quant/outliers.js";
import { f16ToF32 } from "../../src/quant/fp16.js";
import { NumericError } from "../../src/util/errors.js";
import { assertConfigError } from "./assertConfigError.js";
import { createRandom } from "./seededRandom.js";

/** Independent reference: rank all positions by (value, position) with a full sort, take both ends, sort them. */
function extremesBySorting(values: Float32Array, perSide: number): number[] {
  const ranked = [...values.keys()].sort((a, b) => values[a]! - values[b]! || a - b);
  return [...ranked.slice(0, perSide), ...ranked.slice(values.length - perSide)].sort((a, b) => a - b);
}

test("outlierCountPerSide: ceil(α·n/2), at least one per side when α > 0, none when α = 0", () => {
  const cases: [number, number, number][] = [
    [64, 0, 0],
    [64, 0.01, 1], // 0.32 -> at least 1
    [1000, 0.01, 5],
    [1000, 0.05, 25],
    [100, 0.07, 4], // 3.5 -> 4
    [100, 0.14, 7], // 0.14·100/2 is 7.000000000000001 in doubles: still 7
    [2, 0.01, 1],
    [1, 0.5, 0], // one value cannot be both lowest and highest
    [10, 1, 5], // capped at n/2
    [0, 0.01, 0],
  ];
  for (const [n, ratio, expected] of cases) {
    assert.equal(outlierCountPerSide(n, ratio), expected, `n ${n}, α ${ratio}`);
  }
  for (const ratio of [-0.01, 1.5, Number.NaN]) {
    assertConfigError(() => outlierCountPerSide(64, ratio), "outlierRatio", "[0, 1]");
  }
});

test("selectOutliers picks exactly the extremes (by full sort), ties by position, positions ascending", () => {
  const random = createRandom(5);
  const shapes: [number, number, () => PositionArray][] = [
    [8, 1, () => new Uint8Array(2)],
    [64, 1, () => new Uint8Array(2)],
    [65, 3, () => new Uint8Array(6)],
    [256, 5, () => new Uint8Array(10)],
    [300, 4, () => new Uint16Array(8)],
    [128, 64, () => new Uint8Array(128)], // every value is an outlier
  ];
  for (const [n, perSide, makePositions] of shapes) {
    for (let trial = 0; trial < 20; trial++) {
      // Half the trials draw from 5 distinct values, so ties are everywhere and the tie rule decides.
      const distinct = trial % 2 === 0 ? 5 : 1 << 20;
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = Math.floor(random() * distinct) - distinct / 2;
      const positions = makePositions();
      const valueBits = new Uint16Array(positions.length);
      assert.equal(selectOutliers(values, 0, n, perSide, positions, valueBits), 2 * perSide);
      const label = `n ${n}, perSide ${perSide}, trial ${trial}`;
      assert.deepEqual([...positions], extremesBySorting(values, perSide), label);
      // Integers below 2^11 are exact in fp16.
      for (let j = 0; j < positions.length; j++) {
        if (Math.abs(values[positions[j]!]!) <= 2048) assert.equal(f16ToF32(valueBits[j]!), values[positions[j]!]);
      }
    }
  }
});

test("selectOutliers reads only its group and writes only its span", () => {
  const values = Float32Array.of(-99, 3, 1, 2, 5, 4, 99);
  const positions = new Uint8Array(6).fill(200);
  const valueBits = new Uint16Array(6).fill(7);
  assert.equal(selectOutliers(values, 1, 5, 1, positions, valueBits, 2), 2);
  assert.deepEqual([...positions], [200, 200, 1, 3, 200, 200]); // group 3 1 2 5 4: lowest at 1, highest at 3
  assert.deepEqual([...valueBits.subarray(2, 4)].map(f16ToF32), [1, 5]);
  assert.deepEqual([valueBits[0], valueBits[1], valueBits[4], valueBits[5]], [7, 7, 7, 7]);
  assert.equal(selectOutliers(values, 1, 5, 0, positions, valueBits, 0), 0);
  assert.deepEqual([...positions], [200, 200, 1, 3, 200, 200]);
});

test("outlier values beyond the fp16 range saturate at ±65504", () => {
  const positions = new Uint8Array(2);
  const valueBits = new Uint16Array(2);
  selectOutliers(Float32Array.of(0, 1e6, -3e5, 2), 0, 4, 1, positions, valueBits);
  assert.deepEqual([...positions], [1, 2]);
  assert.deepEqual([...valueBits].map(f16ToF32), [65504, -65504]);
});

test("markOutliers and patchOutliers place values at the stored positions only", () => {
  const positions = Uint16Array.of(9, 0, 2, 5);
  const valueBits = Uint16Array.of(0, 0x3c00, 0xc000, 0);
  const mask = new Uint8Array(6).fill(9);
  markOutliers(positions, 1, 2, 6, mask);
  assert.deepEqual([...mask], [1, 0, 1, 0, 0, 0]);
  const out = new Float32Array(8).fill(0.5);
  patchOutliers(positions, valueBits, 1, 2, out, 1, 6);
  assert.deepEqual([...out], [0.5, 1, 0.5, -2, 0.5, 0.5, 0.5, 0.5]);
  assertConfigError(() => patchOutliers(positions, valueBits, 0, 1, out, 0, 6), "positions[0]", "0..5");
});

test("bad arguments give typed errors", () => {
  const select =
    (values: Float32Array, perSide: number, positions: PositionArray, valueBits = new Uint16Array(4)) => () =>
      selectOutliers(values, 0, values.length, perSide, positions, valueBits);
  const four = Float32Array.of(1, 2, 3, 4);
  assertConfigError(select(four, 3, new Uint8Array(6), new Uint16Array(6)), "perSide", "floor(n/2) = 2");
  assertConfigError(select(new Float32Array(300), 1, new Uint8Array(2)), "outPositions", "positions up to 299");
  assertConfigError(select(four, 2, new Uint8Array(3)), "outPositions", "room for 4");
  assert.throws(select(Float32Array.of(1, NaN), 1, new Uint8Array(2)), NumericError);
});
