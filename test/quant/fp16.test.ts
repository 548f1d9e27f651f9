import { test } from "node:test";
import assert from "node:assert/strict";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, f32ToF16Saturating, F16_MAX } from "../../src/quant/fp16.js";
import { createRandom } from "./seededRandom.js";

const isF16NaN = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (b: number): boolean => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;

test("fp16: every one of the 65536 bit patterns survives half -> float -> half (NaN stays NaN)", () => {
  for (let h = 0; h < 65536; h++) {
    const value = f16ToF32(h);
    if (isF16NaN(h)) {
      assert.ok(Number.isNaN(value), `pattern ${h.toString(16)} should decode to NaN`);
      assert.ok(isF16NaN(f32ToF16(value)), `NaN pattern ${h.toString(16)} should encode back to a NaN`);
    } else {
      assert.equal(f32ToF16(value), h, `pattern 0x${h.toString(16)} (${value})`);
    }
  }
});

test("fp16: hand-checked conversions (IEEE 754 binary16 tables)", () => {
  const cases: [number, number][] = [
    [1.0, 0x3c00],
    [-2.0, 0xc000],
    [0.1, 0x2e66], // 0.0999755859375, the nearest half to 0.1
    [65504, 0x7bff], // largest finite half
    [65519.99, 0x7bff], // just below the midpoint to 65536: rounds down
    [65520, 0x7c00], // the midpoint ties to even, which is 2^16: overflow to +Inf
    [-1e6, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [5.96e-8, 0x0001], // smallest subnormal 2^-24 = 5.9604645e-8
    [2 ** -25, 0x0000], // tie between 0 and 2^-24 goes to even 0
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps goes to even 2
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10 goes to even 1
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02 goes to even 0x3c02
    [Infinity, 0x7c00],
    [-0, 0x8000],
  ];
  for (const [value, bits] of cases) assert.equal(f32ToF16(value), bits, `f32ToF16(${value})`);
  assert.equal(f16ToF32(0x3c00), 1);
  assert.equal(f16ToF32(0x7bff), 65504);
  assert.equal(f16ToF32(0x0001), 2 ** -24);
  assert.equal(f16ToF32(0x03ff), 1023 * 2 ** -24);
  assert.equal(f16ToF32(0xfc00), -Infinity);
  assert.ok(Object.is(f16ToF32(0x8000), -0));
});

test("fp16: decoding is strictly increasing over the positive finite patterns", () => {
  for (let h = 1; h <= 0x7c00; h++) assert.ok(f16ToF32(h) > f16ToF32(h - 1), `0x${h.toString(16)}`);
});

test("fp16: the exact midpoint between any two neighbouring halves rounds to the even one", () => {
  // Halves have 11 significant bits, so the midpoint of two neighbours is exact in float32.
  for (let h = 0; h < 0x7c00; h++) {
    for (const sign of [0, 0x8000]) {
      const midpoint = (f16ToF32(sign | h) + f16ToF32(sign | (h + 1))) / 2;
      const even = (h & 1) === 0 ? h : h + 1;
      assert.equal(f32ToF16(midpoint), sign | even, `midpoint after 0x${(sign | h).toString(16)}`);
    }
  }
});

test("fp16: random float32 values round to the nearest half", () => {
  const random = createRandom(99);
  for (let trial = 0; trial < 20000; trial++) {
    const magnitude = Math.fround((1 + random()) * 2 ** Math.floor(-28 + 44 * random()));
    const x = random() < 0.5 ? -magnitude : magnitude;
    if (Math.abs(x) > F16_MAX) continue;
    const h = f32ToF16(x);
    const error = Math.abs(x - f16ToF32(h));
    const body = h & 0x7fff;
    const label = `${x} -> 0x${h.toString(16)}`;
    if (body > 0) assert.ok(error <= Math.abs(x - f16ToF32(h - 1)), `${label}: the lower neighbour is nearer`);
    if (body < 0x7bff) assert.ok(error <= Math.abs(x - f16ToF32(h + 1)), `${label}: the upper neighbour is nearer`);
  }
});

test("fp16 saturating: finite values beyond ±65504 clip instead of becoming Infinity", () => {
  assert.equal(f32ToF16Saturating(1e6), 0x7bff);
  assert.equal(f32ToF16Saturating(-1e6), 0xfbff);
  assert.equal(f32ToF16Saturating(65520), 0x7bff);
  assert.equal(f32ToF16Saturating(1.5), 0x3e00);
  assert.equal(f32ToF16Saturating(Infinity), 0x7c00);
  assert.ok(isF16NaN(f32ToF16Saturating(Number.NaN)));
});

test("bf16: every one of the 65536 bit patterns survives bf16 -> float -> bf16 (NaN stays NaN)", () => {
  for (let b = 0; b < 65536; b++) {
    const value = bf16ToF32(b);
    if (isBf16NaN(b)) {
      assert.ok(Number.isNaN(value), `pattern ${b.toString(16)} should decode to NaN`);
      assert.ok(isBf16NaN(f32ToBf16(value)), `NaN pattern ${b.toString(16)} should encode back to a NaN`);
    } else {
      assert.equal(f32ToBf16(value), b, `pattern 0x${b.toString(16)} (${value})`);
    }
  }
});

test("bf16: hand-checked conversions and ties to even", () => {
  const cases: [number, number][] = [
    [1.0, 0x3f80],
    [-2.0, 0xc000],
    [1 + 2 ** -8, 0x3f80], // tie between 1 and 1 + 2^-7 goes to even 1
    [1 + 3 * 2 ** -8, 0x3f82], // tie between 0x3f81 and 0x3f82 goes to even 0x3f82
    [3.3895313892515355e38, 0x7f7f], // largest finite bf16
    [3.4028234663852886e38, 0x7f80], // largest float32 rounds up to +Inf
    [2 ** -133, 0x0001], // smallest bf16 subnormal
    [-Infinity, 0xff80],
  ];
  for (const [value, bits] of cases) assert.equal(f32ToBf16(value), bits, `f32ToBf16(${value})`);
  assert.equal(bf16ToF32(0x3f80), 1);
  assert.equal(bf16ToF32(0x7f7f), 3.3895313892515355e38);
});

test("bf16: the exact midpoint between any two neighbouring finite values rounds to the even one", () => {
  for (let b = 0; b < 0x7f7f; b++) {
    const midpoint = (bf16ToF32(b) + bf16ToF32(b + 1)) / 2;
    const even = (b & 1) === 0 ? b : b + 1;
    assert.equal(f32ToBf16(midpoint), even, `midpoint after 0x${b.toString(16)}`);
    assert.equal(f32ToBf16(-midpoint), 0x8000 | even, `midpoint after 0x${(0x8000 | b).toString(16)}`);
  }
});
