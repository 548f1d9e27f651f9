import { test } from "node:test";
import assert from "node:assert/strict";
import { GGML_TYPES, quantizeValues } from "../../src/format/gguf/ggmlTypes.js";
import { kQuantStep, packScalesMins, unpackScalesMins, QK_K } from "../../src/format/gguf/kQuants.js";
import { f16RoundUp } from "../../src/format/gguf/kQuantize.js";
import { moreBitsLayer, tensorTypeFor } from "../../src/format/weightRecipe.js";
import { f16ToF32 } from "../../src/quant/fp16.js";
import { Rng } from "../../src/util/rng.js";

// The K-quant formats and quantizer (format/gguf/kQuants.ts, kQuantize.ts) and the convert recipes (weightRecipe.ts).

type KType = "q4_k" | "q5_k" | "q6_k";

/** Super-blocks at scales 1e-3..1e2, some all-positive or all-negative, one with an outlier, one all zero. */
function testValues(blocks: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const values = new Float32Array(blocks * QK_K);
  for (let b = 1; b < blocks; b++) {
    const scale = 10 ** rng.uniform(-3, 2);
    const shift = b % 4 === 1 ? scale : b % 4 === 2 ? -scale : 0;
    for (let i = 0; i < QK_K; i++) values[b * QK_K + i] = rng.uniform(-scale, scale) + shift;
    if (b % 3 === 0) values[b * QK_K + Math.floor(rng.uniform(0, QK_K))] = 30 * scale;
  }
  return values;
}

/**
 * The a-priori bound of kQuantize.ts per value, from the data alone: type-1 ((hi_j - lo_j + dmin)/L + d)/2 with
 * dmin <= up16(max(-lo)/63), d <= up16(max_j(hi_j - lo_j + dmin)/(63L)); Q6_K (a_s/31 + d)/2, d <= up16(max a/(31·127)).
 * up16(x) <= x·(1 + 2^-10) for normal halves, + 2^-24 for subnormal ones.
 */
function aPrioriBounds(type: KType, values: Float32Array): Float64Array {
  const up = (x: number) => x * (1 + 2 ** -10) + 2 ** -24;
  const bounds = new Float64Array(values.length);
  for (let b = 0; b < values.length / QK_K; b++) {
    const block = values.subarray(b * QK_K, (b + 1) * QK_K);
    if (type === "q6_k") {
      const amax = Array.from({ length: 16 }, (_, s) => Math.max(...Array.from(block.subarray(16 * s, 16 * s + 16), Math.abs)));
      const d = up(Math.max(...amax) / (31 * 127));
      for (let i = 0; i < QK_K; i++) bounds[b * QK_K + i] = (amax[i >> 4]! / 31 + d) / 2;
      continue;
    }
    const levels = type === "q4_k" ? 15 : 31;
    const lo = Array.from({ length: 8 }, (_, j) => Math.min(0, ...block.subarray(32 * j, 32 * j + 32)));
    const hi = Array.from({ length: 8 }, (_, j) => Math.max(...block.subarray(32 * j, 32 * j + 32)));
    const dmin = up(Math.max(...lo.map((v) => -v)) / 63);
    const d = up(Math.max(...hi.map((h, j) => h - lo[j]! + dmin)) / (63 * levels));
    for (let i = 0; i < QK_K; i++) bounds[b * QK_K + i] = ((hi[i >> 5]! - lo[i >> 5]! + dmin) / levels + d) / 2;
  }
  return bounds;
}

for (const type of ["q4_k", "q5_k", "q6_k"] as const) {
  test(`${type}: every value within half its stored step and within the a-priori bound derived from the format`, () => {
    const values = testValues(24, 3);
    const stored = quantizeValues(type, values);
    const decoded = new Float32Array(values.length);
    GGML_TYPES[type].dequantizeRow(stored, values.length, decoded);
    const bounds = aPrioriBounds(type, values);
    let err2 = 0;
    let x2 = 0;
    for (let i = 0; i < values.length; i++) {
      const err = Math.abs(decoded[i]! - values[i]!);
      const slack = 2 ** -20 * Math.abs(values[i]!) + 1e-12;
      assert.ok(err <= kQuantStep(type, stored, i) / 2 + slack, `${type}[${i}]: error ${err} > half step ${kQuantStep(type, stored, i) / 2}`);
      assert.ok(err <= bounds[i]! + slack, `${type}[${i}]: error ${err} > a-priori bound ${bounds[i]}`);
      err2 += err * err;
      x2 += values[i]! ** 2;
    }
    // the all-zero super-block decodes to exact zeros
    assert.ok(decoded.subarray(0, QK_K).every((v) => v === 0));
    assert.ok(Math.sqrt(err2 / x2) < { q4_k: 0.12, q5_k: 0.06, q6_k: 0.03 }[type], `${type} relative RMS ${Math.sqrt(err2 / x2)}`);
  });
}

test("6-bit scales and mins pack into 12 bytes and unpack as ggml's get_scale_min_k4 reads them", () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 100; trial++) {
    const sc = Array.from({ length: 8 }, () => Math.floor(rng.uniform(0, 64)));
    const m = Array.from({ length: 8 }, () => Math.floor(rng.uniform(0, 64)));
    const bytes = new Uint8Array(12);
    packScalesMins(sc, m, bytes, 0);
    // ggml's rule, spelled out independently: j < 4 low 6 bits of bytes j / j+4; j >= 4 nibbles of byte j+4 and the
    // top 2 bits of bytes j-4 / j
    for (let j = 0; j < 8; j++) {
      const s = j < 4 ? bytes[j]! & 63 : (bytes[j + 4]! & 0xf) | ((bytes[j - 4]! >> 6) << 4);
      const n = j < 4 ? bytes[j + 4]! & 63 : (bytes[j + 4]! >> 4) | ((bytes[j]! >> 6) << 4);
      assert.deepEqual([s, n], [sc[j], m[j]]);
    }
    const outSc = new Uint8Array(8);
    const outM = new Uint8Array(8);
    unpackScalesMins(bytes, 0, outSc, outM);
    assert.deepEqual([Array.from(outSc), Array.from(outM)], [sc, m]);
  }
});

test("f16RoundUp gives the smallest half at or above x", () => {
  for (const x of [0, 1e-9, 3e-5, 0.1, 1 / 3, 1, 1000.3, 65504]) {
    const h = f16RoundUp(x);
    assert.ok(f16ToF32(h) >= x, `${x}`);
    assert.ok(h === 0 || f16ToF32(h - 1) < x, `${x}: ${f16ToF32(h - 1)} is also >= x`);
  }
  assert.equal(f16RoundUp(1e6), 0x7bff); // saturates at the largest finite half
});

test("q4_k_m follows llama.cpp's mix: Q6_K output and attn_v/ffn_down of the more-bits layers, fallbacks by row length", () => {
  // 22 layers (TinyLlama): eighth = 2, last eighth from 19; every third from layer 2 + 2 = 4
  const more = Array.from({ length: 22 }, (_, l) => l).filter((l) => moreBitsLayer(l, 22));
  assert.deepEqual(more, [0, 1, 4, 7, 10, 13, 16, 19, 20, 21]);
  assert.equal(tensorTypeFor("q4_k_m", "output.weight", [2048, 32000], 22), "q6_k");
  assert.equal(tensorTypeFor("q4_k_m", "blk.4.attn_v.weight", [2048, 256], 22), "q6_k");
  assert.equal(tensorTypeFor("q4_k_m", "blk.5.attn_v.weight", [2048, 256], 22), "q4_k");
  assert.equal(tensorTypeFor("q4_k_m", "blk.0.ffn_down.weight", [5632, 2048], 22), "q6_k");
  assert.equal(tensorTypeFor("q4_k_m", "blk.0.attn_q.weight", [2048, 2048], 22), "q4_k");
  assert.equal(tensorTypeFor("q4_k_m", "token_embd.weight", [2048, 32000], 22), "q4_k");
  assert.equal(tensorTypeFor("q5_k_m", "blk.3.attn_q.weight", [2048, 2048], 22), "q5_k");
  // rows that are not whole super-blocks: Q8_0 when whole blocks of 32, else F16; norms F32
  assert.equal(tensorTypeFor("q4_k", "blk.0.ffn_down.weight", [704, 256], 4), "q8_0");
  assert.equal(tensorTypeFor("q6_k", "blk.0.ffn_down.weight", [172, 64], 4), "f16");
  assert.equal(tensorTypeFor("q4_k", "blk.0.attn_norm.weight", [256], 4), "f32");
});
