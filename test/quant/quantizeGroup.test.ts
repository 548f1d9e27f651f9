import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createGroupScratch,
  createQuantizedGroupInfo,
  dequantizeGroupPacked,
  quantizeGroup,
} from "../../src/quant/quantizeGroup.js";
import { packedByteLength } from "../../src/quant/bitpack.js";
import type { UniformMethod } from "../../src/quant/uniform.js";
import { assertConfigError } from "./assertConfigError.js";
import { createRandom } from "./seededRandom.js";

const SENTINEL = 0x5a;
const FLOAT32_SLACK = 1e-5;
const METHODS: UniformMethod[] = ["minmax", "meanClip"];

interface StoredGroup {
  codes: Uint8Array;
  positions: Uint8Array;
  valueBits: Uint16Array;
  info: ReturnType<typeof createQuantizedGroupInfo>;
  restored: Float32Array;
}

/** Quantizes one group into buffers with a 3-byte / 1-entry lead-in, then dequantizes it back. */
function roundTrip(values: Float32Array, bits: number, method: UniformMethod, ratio: number): StoredGroup {
  const n = values.length;
  const codes = new Uint8Array(3 + packedByteLength(n, bits) + 3).fill(SENTINEL);
  const positions = new Uint8Array(1 + n).fill(SENTINEL);
  const valueBits = new Uint16Array(1 + n).fill(SENTINEL);
  const info = createQuantizedGroupInfo();
  quantizeGroup(values, 0, n, bits, method, ratio, codes, 3, positions, valueBits, 1, createGroupScratch(n), info);
  const restored = new Float32Array(n + 2).fill(-1);
  const { scale, zero, outlierCount } = info;
  dequantizeGroupPacked(codes, 3, n, bits, scale, zero, positions, valueBits, 1, outlierCount, restored, 1);
  return { codes, positions, valueBits, info, restored: restored.subarray(1, n + 1) };
}

/** Multiples of 1/256 in [-4, 4): exact in fp16, so outliers must come back bit for bit. */
function fp16ExactGroup(random: () => number, n: number): Float32Array {
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.floor(random() * 2048 - 1024) / 256;
  return values;
}

test("round trip: outliers restored exactly, the rest within half a step of the non-outlier range", () => {
  const random = createRandom(11);
  for (const method of METHODS) {
    for (let bits = 0; bits <= 8; bits++) {
      for (const ratio of [0, 0.01, 0.1]) {
        const n = 64;
        const values = fp16ExactGroup(random, n);
        const { codes, positions, info, restored } = roundTrip(values, bits, method, ratio);
        const label = `${method}, bits ${bits}, ratio ${ratio}`;

        // Expected outliers from a full sort by (value, position): the ends of the ranking.
        const perSide = ratio === 0 ? 0 : Math.max(1, Math.ceil((ratio * n) / 2));
        const ranked = [...values.keys()].sort((a, b) => values[a]! - values[b]! || a - b);
        const outliers = new Set([...ranked.slice(0, perSide), ...ranked.slice(n - perSide)]);
        assert.equal(info.outlierCount, 2 * perSide, label);
        assert.deepEqual([...positions.subarray(1, 1 + info.outlierCount)], [...outliers].sort((a, b) => a - b), label);
        assert.equal(positions[1 + info.outlierCount], SENTINEL, `${label}: wrote past its outliers`);

        const inner = ranked.slice(perSide, n - perSide).map((i) => values[i]!);
        const range = inner[inner.length - 1]! - inner[0]!;
        assert.ok(Math.abs(info.scale - range / 2 ** bits) <= 1e-6 * info.scale, `${label}: scale from inner range`);

        const byteLength = packedByteLength(n, bits);
        const outside = [...codes.subarray(0, 3), ...codes.subarray(3 + byteLength)];
        assert.deepEqual(outside, new Array(6).fill(SENTINEL), `${label}: wrote outside its codes`);
        for (let i = 0; i < n; i++) {
          const error = Math.abs(restored[i]! - values[i]!);
          const bound = info.scale / 2 + FLOAT32_SLACK;
          if (outliers.has(i)) assert.equal(restored[i], values[i], `${label}: outlier ${i}`);
          else if (method === "minmax") assert.ok(error <= bound, `${label}: value ${i} off by ${error}`);
        }
      }
    }
  }
});

test("a planted extreme no longer stretches the grid once outliers are on", () => {
  const random = createRandom(12);
  const values = fp16ExactGroup(random, 64);
  values[17] = 1000;
  const without = roundTrip(values, 3, "minmax", 0);
  const withOutliers = roundTrip(values, 3, "minmax", 0.01);
  assert.ok(without.info.scale > 100, `without outliers the step spans the spike: ${without.info.scale}`);
  assert.ok(withOutliers.info.scale < 2, `with outliers it does not: ${withOutliers.info.scale}`);
  assert.equal(withOutliers.restored[17], 1000);
});

test("outlier values that fp16 cannot hold exactly come back within fp16 rounding", () => {
  const random = createRandom(13);
  const values = new Float32Array(64);
  for (let i = 0; i < 64; i++) values[i] = Math.fround((random() - 0.5) * 7.3);
  const { positions, info, restored } = roundTrip(values, 4, "meanClip", 0.05);
  assert.equal(info.outlierCount, 4);
  for (const p of positions.subarray(1, 1 + info.outlierCount)) {
    // Half a unit in the last place of fp16 is at most 2^-11 relative.
    assert.ok(Math.abs(restored[p]! - values[p]!) <= Math.abs(values[p]!) * 2 ** -11, `position ${p}`);
  }
});

test("bad width or method fails at the boundary with a ConfigError", () => {
  const values = new Float32Array(8);
  const call = (bits: number, method: UniformMethod, ratio = 0.01) =>
    quantizeGroup(values, 0, 8, bits, method, ratio, new Uint8Array(16), 0, new Uint8Array(2), new Uint16Array(2), 0,
      createGroupScratch(8), createQuantizedGroupInfo());
  for (const bits of [9, 16, -1]) assertConfigError(() => call(bits, "minmax"), "bits", "0..8");
  assertConfigError(() => call(4, "median" as UniformMethod), "method", '"minmax" or "meanClip"');
  assertConfigError(() => call(4, "minmax", 2), "outlierRatio", "[0, 1]");
});
