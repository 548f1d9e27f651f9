import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { f16ToF32, bf16ToF32 } from "../../src/quant/fp16.js";
import { toHeap, heapF32 } from "./kernelTestSupport.js";

// The wasm f16 -> f32 conversion (integer SIMD, see assembly/lib/f16.ts) must be exact for all 65536 bit patterns,
// in the vector path and the scalar tail path, against src/quant/fp16.ts (an independent scalar decoder). Each
// pattern is decoded by a kernel that multiplies it by exactly 1 and adds it to 0: weights [h, 0, 0, 0] against
// x = [1, 0, 0, 0] (vector path: 4 columns), weights [h] against x = [1] (scalar tail: 1 column), and the values of
// a one-token cache mixed with probability 1.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, h) => h);

function assertDecodes(actual: Float32Array, decode: (h: number) => number, what: string): void {
  for (let h = 0; h < 65536; h++) {
    const want = Math.fround(decode(h));
    const got = actual[h]!;
    // 0 + (-0) is +0, so zeros compare by value; NaN must stay NaN
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${what}: 0x${h.toString(16)} gave ${got}, expected NaN`);
    else assert.ok(got === want, `${what}: 0x${h.toString(16)} gave ${got}, expected ${want}`);
  }
}

for (const kind of ["f16", "bf16"] as const) {
  const decode = kind === "f16" ? f16ToF32 : bf16ToF32;
  test(`matvec_${kind} decodes every ${kind} value exactly (vector and scalar paths)`, () => {
    const heap = compute.heap;
    const out = heapF32(heap, 65536, "out");
    const padded = new Uint16Array(65536 * 4);
    ALL_HALVES.forEach((h, i) => (padded[4 * i] = h));
    compute.kernels[`matvec_${kind}`](0, 65536, toHeap(heap, padded, "w"), toHeap(heap, Float32Array.of(1, 0, 0, 0), "x"), out.ptr, 4);
    assertDecodes(out.view, decode, `matvec_${kind} vector path`);
    out.view.fill(NaN);
    compute.kernels[`matvec_${kind}`](0, 65536, toHeap(heap, ALL_HALVES, "w"), toHeap(heap, Float32Array.of(1), "x"), out.ptr, 1);
    assertDecodes(out.view, decode, `matvec_${kind} scalar path`);
  });
}

test("attn_mix_f16 decodes every f16 value exactly (8-wide, 4-wide and scalar paths)", () => {
  const heap = compute.heap;
  const out = heapF32(heap, 65536, "out");
  const v = toHeap(heap, ALL_HALVES, "v");
  const p = toHeap(heap, Float32Array.of(1), "p");
  // one query, T = 1, headDim = 65536: dims [0, 65536) by the 8-wide path
  compute.kernels.attn_mix_f16(0, 65536, p, v, out.ptr, 1, 65536, 65536, 1);
  assertDecodes(out.view, f16ToF32, "attn_mix_f16 8-wide");
  // the same dims in slices of 7 (4-wide chunk + 3 scalar dims each)
  out.view.fill(NaN);
  for (let d = 0; d < 65536; d += 7) compute.kernels.attn_mix_f16(d, Math.min(d + 7, 65536), p, v, out.ptr, 1, 65536, 65536, 1);
  assertDecodes(out.view, f16ToF32, "attn_mix_f16 4-wide and scalar");
});
