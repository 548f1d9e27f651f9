import { test } from "node:test";
import assert from "node:assert/strict";
import { packCodes, packedByteLength, readCode, unpackCodes } from "../../src/quant/bitpack.js";
import { assertConfigError } from "./assertConfigError.js";
import { createRandom } from "./seededRandom.js";

const WIDTHS = [1, 2, 3, 4, 5, 6, 7, 8];
const COUNTS = [1, 7, 63, 65, 1000];
const BYTE_OFFSETS = [0, 3];
const SENTINEL = 0xa5;

/**
 * Independent reference of the documented layout, one bit at a time: bit j of code i is stream bit i·w + j, and
 * stream bit k is bit (k mod 8) of byte floor(k/8).
 */
function packBitByBit(codes: Uint8Array, count: number, bits: number): Uint8Array {
  const bytes = new Uint8Array(Math.floor((count * bits + 7) / 8));
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < bits; j++) {
      const k = i * bits + j;
      bytes[k >> 3]! |= ((codes[i]! >> j) & 1) << (k & 7);
    }
  }
  return bytes;
}

function randomCodes(random: () => number, count: number, bits: number): Uint8Array {
  const codes = new Uint8Array(count);
  for (let i = 0; i < count; i++) codes[i] = Math.floor(random() * 2 ** bits);
  return codes;
}

test("packedByteLength is ceil(count·bits/8) for every width 0..8", () => {
  for (let bits = 0; bits <= 8; bits++) {
    for (const count of [0, ...COUNTS]) {
      assert.equal(packedByteLength(count, bits), Math.floor((count * bits + 7) / 8), `count ${count}, bits ${bits}`);
    }
  }
});

test("hand-checked bit patterns: LSB-first stream, codes straddle bytes", () => {
  const dst = new Uint8Array(2);
  packCodes(Uint8Array.of(1, 2, 3), 3, 2, dst, 0);
  assert.deepEqual([...dst], [0b00_11_10_01, 0]); // 1 | 2<<2 | 3<<4 = 0x39
  packCodes(Uint8Array.of(5, 3, 7), 3, 3, dst, 0);
  assert.deepEqual([...dst], [0xdd, 0x01]); // 5 | 3<<3 | 7<<6 = 0x1dd
  packCodes(Uint8Array.of(0xab), 1, 8, dst, 1);
  assert.equal(dst[1], 0xab);
});

test("round trip of random codes, every width 1..8, odd counts, non-zero byte offsets", () => {
  const random = createRandom(12345);
  for (const bits of WIDTHS) {
    for (const count of COUNTS) {
      for (const offset of BYTE_OFFSETS) {
        const label = `bits ${bits}, count ${count}, offset ${offset}`;
        const codes = randomCodes(random, count, bits);
        const byteLength = packedByteLength(count, bits);
        const dst = new Uint8Array(offset + byteLength + 4).fill(SENTINEL);
        packCodes(codes, count, bits, dst, offset);

        assert.deepEqual(dst.subarray(offset, offset + byteLength), packBitByBit(codes, count, bits), label);
        for (let b = 0; b < offset; b++) assert.equal(dst[b], SENTINEL, `${label}: byte ${b} before the group`);
        for (let b = offset + byteLength; b < dst.length; b++) {
          assert.equal(dst[b], SENTINEL, `${label}: byte ${b} after the group`);
        }

        const out = new Uint8Array(count).fill(0xff);
        unpackCodes(dst, offset, count, bits, out);
        assert.deepEqual(out, codes, label);
        for (let i = 0; i < count; i++) {
          assert.equal(readCode(dst, offset, i, bits), codes[i], `${label}: readCode ${i}`);
        }
      }
    }
  }
});

test("SIMD contract: in a group of 64, codes 8j..8j+7 are exactly bytes [j·w, (j+1)·w)", () => {
  const random = createRandom(7);
  for (const bits of WIDTHS) {
    const codes = randomCodes(random, 64, bits);
    const dst = new Uint8Array(8 * bits);
    packCodes(codes, 64, bits, dst, 0);
    for (let block = 0; block < 8; block++) {
      // Assemble the block's w bytes as one little-endian integer and cut it into 8 codes.
      let word = 0n;
      for (let b = bits - 1; b >= 0; b--) word = (word << 8n) | BigInt(dst[block * bits + b]!);
      for (let lane = 0; lane < 8; lane++) {
        const code = Number((word >> BigInt(lane * bits)) & BigInt((1 << bits) - 1));
        assert.equal(code, codes[block * 8 + lane], `bits ${bits}, block ${block}, lane ${lane}`);
      }
    }
  }
});

test("width 0 stores nothing and reads zeros", () => {
  const dst = new Uint8Array(2).fill(SENTINEL);
  packCodes(new Uint8Array(5), 5, 0, dst, 1);
  assert.deepEqual([...dst], [SENTINEL, SENTINEL]);
  const out = new Uint8Array(5).fill(9);
  unpackCodes(new Uint8Array(0), 0, 5, 0, out);
  assert.deepEqual([...out], [0, 0, 0, 0, 0]);
  assert.equal(readCode(new Uint8Array(0), 0, 3, 0), 0);
});

test("bits outside 0..8 give a ConfigError naming bits and the allowed range", () => {
  for (const bits of [9, 16, -1, 2.5, Number.NaN]) {
    assertConfigError(() => packedByteLength(4, bits), "bits", "0..8");
    assertConfigError(() => packCodes(new Uint8Array(4), 4, bits, new Uint8Array(8), 0), "bits", "0..8");
    assertConfigError(() => unpackCodes(new Uint8Array(8), 0, 4, bits, new Uint8Array(4)), "bits", "0..8");
    assertConfigError(() => readCode(new Uint8Array(8), 0, 0, bits), "bits", "0..8");
  }
});

test("codes too wide for the width and buffers too short are rejected", () => {
  assertConfigError(() => packCodes(Uint8Array.of(1, 8), 2, 3, new Uint8Array(1), 0), "codes[1]", "0..7");
  assertConfigError(() => packCodes(new Uint8Array(9), 9, 8, new Uint8Array(9), 1), "dst", "room for 9");
  assertConfigError(() => unpackCodes(new Uint8Array(2), 0, 9, 2, new Uint8Array(9)), "src", "room for 3");
  assertConfigError(() => readCode(new Uint8Array(1), 0, 2, 3), "src", "room for 2");
});
