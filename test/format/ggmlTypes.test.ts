import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GGML_TYPES,
  dequantizeTensorRow,
  describeGgmlTypeId,
  quantizeValues,
  tensorByteSize,
  tensorTypeFromGgmlId,
} from "../../src/format/gguf/ggmlTypes.js";
import type { TensorType } from "../../src/format/tensor.js";
import { UsageError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";

/** Half an ulp of fp16 relative to a normal value: the most the stored block scale differs from the float32 one. */
const FP16_RELATIVE = 2 ** -11;
/** Slack for float32 products and sums. */
const F32_SLACK = 1e-6;

function dequantize(type: TensorType, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  GGML_TYPES[type].dequantizeRow(bytes, n, out);
  return out;
}

/** Blocks of 32 at scales 1e-2..1e3, some with one outlier, one all zero: the cases the block formats must handle. */
function testValues(blocks: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const values = new Float32Array(blocks * 32);
  for (let b = 1; b < blocks; b++) {
    const scale = 10 ** rng.uniform(-2, 3);
    for (let j = 0; j < 32; j++) values[b * 32 + j] = rng.uniform(-scale, scale);
    if (b % 3 === 0) values[b * 32 + Math.floor(rng.uniform(0, 32))] = scale * 20 * (rng.next() < 0.5 ? -1 : 1);
  }
  return values; // block 0 stays all zero
}

test("traits table: ggml ids, block sizes and byte sizes are ggml's", () => {
  const expected: Record<TensorType, [number, number, number]> = {
    f32: [0, 1, 4],
    f16: [1, 1, 2],
    q4_0: [2, 32, 18],
    q8_0: [8, 32, 34],
    q4_k: [12, 256, 144],
    q5_k: [13, 256, 176],
    q6_k: [14, 256, 210],
    bf16: [30, 1, 2],
  };
  for (const [type, [id, blockSize, bytes]] of Object.entries(expected) as [TensorType, [number, number, number]][]) {
    const traits = GGML_TYPES[type];
    assert.deepEqual([traits.ggmlId, traits.blockSize, traits.bytesPerBlock], [id, blockSize, bytes], type);
    assert.equal(tensorTypeFromGgmlId(id), type);
  }
  assert.equal(tensorTypeFromGgmlId(10), undefined);
  assert.equal(describeGgmlTypeId(10), "Q2_K (10)");
  assert.equal(describeGgmlTypeId(99), "unknown type 99");
  assert.equal(tensorByteSize("q8_0", [64, 3]), 2 * 34 * 3);
});

test("Q8_0 encodes a hand-computed block: fp16 scale, round half away from zero", () => {
  // amax 63.5 -> d = 0.5 (fp16 0x3800), 1/d = 2: x*2 rounded, halves away from zero (roundf, not Math.round)
  const x = new Float32Array(32);
  x.set([63.5, -63.5, 0.25, -0.25, 0.75, -0.75, 1, -1.1]);
  const expected = new Uint8Array(34);
  expected.set([0x00, 0x38, 127, 0x81, 1, 0xff, 2, 0xfe, 2, 0xfe]); // -1.1*2 = -2.2 -> -2
  assert.deepEqual(quantizeValues("q8_0", x), expected);
  const back = dequantize("q8_0", expected, 32);
  assert.deepEqual(Array.from(back.subarray(0, 8)), [63.5, -63.5, 0.5, -0.5, 1, -1, 1, -1]);
});

test("Q4_0 encodes a hand-computed block: signed scale, nibble pairs j / j+16, top code clipped", () => {
  // largest magnitude is +8 -> d = 8 / -8 = -1 (fp16 0xBC00), q = min(15, trunc(-x + 8.5))
  const x = new Float32Array(32);
  x.set([8, 1, 0.5, -0.5, 2.4]);
  x[16] = -8; // -(-8) + 8.5 = 16.5 -> 16 -> clipped to 15
  x[17] = 3;
  const expected = new Uint8Array(18).fill(0x88); // x = 0 -> q = 8 in both nibbles
  expected[0] = 0x00;
  expected[1] = 0xbc;
  expected[2] = 0 | (15 << 4); // element 0 (q 0) low, element 16 (q 15) high
  expected[3] = 7 | (5 << 4); // element 1: trunc(7.5) = 7; element 17: trunc(5.5) = 5
  expected[4] = 8 | (8 << 4); // 0.5: trunc(8.0) = 8
  expected[5] = 9 | (8 << 4); // -0.5: trunc(9.0) = 9
  expected[6] = 6 | (8 << 4); // 2.4: trunc(6.1) = 6
  assert.deepEqual(quantizeValues("q4_0", x), expected);
  const back = dequantize("q4_0", expected, 32);
  // 0.5 -> (8 - 8) * -1 = -0, as in C
  assert.deepEqual([back[0], back[1], back[2], back[3], back[4], back[16], back[17]], [8, 1, -0, -1, 2, -7, 3]);
});

test("Q8_0 error per value <= d/2 + 127*|fp16(d) - d| (d = amax/127)", () => {
  const x = testValues(64, 1);
  const back = dequantize("q8_0", quantizeValues("q8_0", x), x.length);
  for (let b = 0; b < 64; b++) {
    const block = x.subarray(b * 32, b * 32 + 32);
    const d = Math.max(...block.map(Math.abs)) / 127;
    const limit = d / 2 + 127 * d * FP16_RELATIVE + F32_SLACK * d * 127;
    for (let j = 0; j < 32; j++) {
      assert.ok(Math.abs(back[b * 32 + j]! - block[j]!) <= limit, `block ${b} value ${j}: ${block[j]} -> ${back[b * 32 + j]}`);
    }
  }
});

test("Q4_0 error per value <= |d|/2 (|d| where x/d > 7.5 is clipped to code 15) + 8*|fp16(d) - d|", () => {
  const x = testValues(64, 2);
  const back = dequantize("q4_0", quantizeValues("q4_0", x), x.length);
  for (let b = 0; b < 64; b++) {
    const block = x.subarray(b * 32, b * 32 + 32);
    let max = 0;
    for (const v of block) if (Math.abs(v) > Math.abs(max)) max = v;
    const d = max / -8;
    for (let j = 0; j < 32; j++) {
      const clipped = d !== 0 && block[j]! / d > 7.5;
      const limit = (clipped ? 1 : 0.5) * Math.abs(d) + 8 * Math.abs(d) * FP16_RELATIVE + F32_SLACK * Math.abs(max);
      assert.ok(Math.abs(back[b * 32 + j]! - block[j]!) <= limit, `block ${b} value ${j}: ${block[j]} -> ${back[b * 32 + j]}`);
    }
  }
});

test("F32 is bit-exact; F16 and BF16 keep representable values exactly and round others within half an ulp", () => {
  const special = new Float32Array([0, -0, 1, -2.5, 65504, 2 ** -24, Infinity, -Infinity]);
  const f32 = dequantize("f32", quantizeValues("f32", special), special.length);
  assert.deepEqual(new Uint8Array(f32.buffer), new Uint8Array(special.buffer));
  assert.deepEqual(dequantize("f16", quantizeValues("f16", special), special.length), special);
  const bf16Exact = new Float32Array([0, -0, 1, -2.5, 1.5 * 2 ** 127, -1.25 * 2 ** -126, Infinity]); // <= 8 significant bits
  assert.deepEqual(dequantize("bf16", quantizeValues("bf16", bf16Exact), bf16Exact.length), bf16Exact);

  const x = testValues(8, 3).subarray(32); // normal-range values
  for (const [type, relative] of [["f16", 2 ** -11], ["bf16", 2 ** -8]] as const) {
    const back = dequantize(type, quantizeValues(type, x), x.length);
    x.forEach((v, i) => assert.ok(Math.abs(back[i]! - v) <= Math.abs(v) * relative, `${type} ${v} -> ${back[i]}`));
  }
});

test("odd lengths: quantizing values that are not whole blocks is refused", () => {
  assert.throws(() => quantizeValues("q8_0", new Float32Array(33)), UsageError);
  assert.throws(() => quantizeValues("q4_0", new Float32Array(16)), UsageError);
  assert.equal(quantizeValues("f16", new Float32Array(3)).byteLength, 6);
});

test("dequantizeTensorRow reads one row of any type, from aligned or unaligned bytes, and checks the row", () => {
  for (const type of Object.keys(GGML_TYPES) as TensorType[]) {
    const cols = GGML_TYPES[type].blockSize === 256 ? 256 : 64;
    const values = testValues((3 * cols) / 32, 4); // 3 rows
    const stored = quantizeValues(type, values);
    const unaligned = new Uint8Array(stored.byteLength + 1).subarray(1);
    unaligned.set(stored);
    const whole = dequantize(type, stored, values.length);
    for (const data of [stored, unaligned]) {
      const tensor = { name: "t", type, shape: [cols, 3], data };
      const row = new Float32Array(cols);
      dequantizeTensorRow(tensor, 2, row);
      assert.deepEqual(row, whole.subarray(2 * cols, 3 * cols), type);
      assert.throws(() => dequantizeTensorRow(tensor, 3, row), UsageError);
    }
  }
});
