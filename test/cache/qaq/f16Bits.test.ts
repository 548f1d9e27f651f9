import { test } from "node:test";
import assert from "node:assert/strict";
import { F16Rounder, widenF16Bits } from "../../../src/cache/qaq/f16Bits.js";
import { f16ToF32, f32ToF16 } from "../../../src/quant/fp16.js";
import { Rng } from "../../../src/util/rng.js";

test("widenF16Bits gives the float32 pattern of every one of the 65536 fp16 values (quant/fp16.ts as oracle)", () => {
  const float = new Float32Array(1);
  const bits = new Uint32Array(float.buffer);
  for (let h = 0; h < 65536; h++) {
    bits[0] = widenF16Bits(h);
    const expected = f16ToF32(h);
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(float[0]), `0x${h.toString(16)}`);
    else assert.ok(Object.is(float[0], expected), `0x${h.toString(16)}: ${float[0]} vs ${expected}`);
  }
});

test("roundUp: the smallest fp16 ≥ x; Infinity beyond 65504", () => {
  const rounder = new F16Rounder();
  const rng = new Rng(51);
  for (let i = 0; i < 20000; i++) {
    const x = Math.exp(rng.uniform(-20, 11));
    const h = rounder.roundUp(x);
    assert.ok(f16ToF32(h) >= x, `${x}: ${f16ToF32(h)} below`);
    if (h > 0) assert.ok(f16ToF32(h - 1) < x, `${x}: ${f16ToF32(h - 1)} also ≥ x`);
  }
  assert.equal(rounder.roundUp(0), 0);
  assert.equal(rounder.roundUp(1), f32ToF16(1));
  assert.equal(rounder.roundUp(65504), f32ToF16(65504));
  assert.equal(rounder.roundUp(65504.5), 0x7c00);
  assert.equal(rounder.roundUp(1e6), 0x7c00);
});
