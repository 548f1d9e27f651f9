import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { q8_0ActivationBytes, q8KActivationBytes, Q8_K_BLOCK_BYTES, type KernelExports } from "../../src/kernels/kernelExports.js";
import { quantizeActQ8_0Ref, quantizeActQ8KRef } from "../../src/kernels/reference/quantizeActRef.js";
import { createRng, randomFloats, toHeap, runSerialAndParallel } from "./kernelTestSupport.js";

// quantize_act_q8_0 and quantize_act_q8_k must produce exactly the reference's bytes (codes, scales, sums), serially
// and on 2 threads; hand-worked values pin the rounding rules (llama.cpp's, see quantAct.ts).

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

type Kind = "q8_0" | "q8_k";
const KERNEL: Record<Kind, keyof KernelExports> = { q8_0: "quantize_act_q8_0", q8_k: "quantize_act_q8_k" };
const BYTES: Record<Kind, (cols: number) => number> = { q8_0: q8_0ActivationBytes, q8_k: q8KActivationBytes };
const REFERENCE: Record<Kind, (x: Float32Array, xq: Uint8Array, nTok: number, cols: number) => void> = {
  q8_0: quantizeActQ8_0Ref,
  q8_k: quantizeActQ8KRef,
};

function checkAgainstReference(kind: Kind, x: Float32Array, nTok: number, cols: number, what: string): void {
  const expected = new Uint8Array(nTok * BYTES[kind](cols));
  REFERENCE[kind](x, expected, nTok, cols);
  const heap = compute.heap;
  const out = heap.alloc(expected.length, "xq");
  runSerialAndParallel(compute, KERNEL[kind], nTok, [toHeap(heap, x, "x"), out.ptr, cols],
    () => heap.u8(out, 0, expected.length).fill(0xaa),
    (mode) => assert.deepEqual(heap.u8(out, 0, expected.length), expected, `${kind} ${what} ${mode}`));
}

/** Runs one token through `kind`'s kernel, returns its bytes. */
function quantizeOne(kind: Kind, x: Float32Array): Uint8Array {
  const heap = compute.heap;
  const out = heap.alloc(BYTES[kind](x.length), "xq");
  const kernel = kind === "q8_0" ? compute.kernels.quantize_act_q8_0 : compute.kernels.quantize_act_q8_k;
  kernel(0, 1, toHeap(heap, x, "x"), out.ptr, x.length);
  return heap.u8(out, 0, BYTES[kind](x.length)).slice();
}

test("quantize_act_q8_0 and _q8_k match their references bit for bit on random activations", () => {
  for (const [nTok, cols] of [[1, 256], [3, 512], [5, 768], [9, 256]] as const) {
    const rng = createRng(nTok * 100 + cols);
    // a spread of magnitudes per block, as in real activations, and an all-zero block in some tokens
    const x = randomFloats(rng, nTok * cols).map((v, i) => v * 10 ** ((i >> 5) % 5 - 2));
    if (nTok > 1) x.fill(0, cols, cols + 256);
    checkAgainstReference("q8_0", x, nTok, cols, `${nTok}x${cols}`);
    checkAgainstReference("q8_k", x, nTok, cols, `${nTok}x${cols}`);
  }
});

test("quantize_act_q8_0: ties to even, id = 127/amax, the scale rounded to f16 (normal and subnormal), zero blocks", () => {
  const x = new Float32Array(128);
  // block 0: amax 127 -> d = 1 and id = 1 exactly, so the ties are exact
  x.set([2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 126.5, 127]);
  // block 1: amax 1 -> d = 1/127 = 0.0078740..., whose nearest f16 is 2^-7·1032/1024 = 0.00787353515625
  x[32] = -1;
  // block 2: amax 127·3e-7 -> d = 3e-7, an f16 subnormal: nearest multiple of 2^-24 is 5·2^-24
  x[64] = 127 * 3e-7;
  // block 3 stays all zero
  const bytes = quantizeOne("q8_0", x);
  const codes = new Int8Array(bytes.buffer, 0, 128);
  const scales = new Float32Array(bytes.buffer.slice(128, 144));
  assert.deepEqual(Array.from(codes.subarray(0, 8)), [2, 4, -2, -4, 0, 0, 126, 127]);
  assert.deepEqual(Array.from(scales), [1, 0.00787353515625, 5 * 2 ** -24, 0]);
  assert.equal(codes[32], -127);
  assert.equal(codes[64], 127);
  assert.ok(codes.subarray(96).every((c) => c === 0));
});

test("quantize_act_q8_0 matches the reference next to rounding ties (x·id within one f32 step of k + 0.5)", () => {
  const cols = 32 * 64;
  const nTok = 3;
  const rng = createRng(99);
  const x = new Float32Array(nTok * cols);
  const bits = new Uint32Array(x.buffer);
  for (let block = 0; block < (nTok * cols) / 32; block++) {
    const amax = Math.fround(0.01 + 100 * rng());
    const id = Math.fround(127 / amax);
    x[block * 32] = rng() < 0.5 ? amax : -amax;
    for (let j = 1; j < 32; j++) {
      const at = block * 32 + j;
      x[at] = (Math.floor(rng() * 253) - 126 + 0.5) / id;
      bits[at] = bits[at]! + Math.floor(rng() * 3) - 1; // one step toward or away from zero, or none
    }
  }
  checkAgainstReference("q8_0", x, nTok, cols, "near-tie values");
});

test("quantize_act_q8_k: one f32 scale per 256 values, ties to even, i16 sums per 32 codes, zero super-blocks", () => {
  const x = new Float32Array(512);
  // super-block 0: amax 127 -> iscale = d = 1
  x.set([2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 126.5, -127]);
  x[40] = 100.4; // sub-block 1
  // super-block 1 stays all zero
  const bytes = quantizeOne("q8_k", x);
  const view = new DataView(bytes.buffer);
  const codes = new Int8Array(bytes.buffer, 0, 256);
  assert.deepEqual(Array.from(codes.subarray(0, 8)), [2, 4, -2, -4, 0, 0, 126, -127]);
  assert.equal(codes[40], 100);
  assert.deepEqual([0, 1, 2, 3].map((j) => view.getInt16(256 + 2 * j, true)), [2 + 4 - 2 - 4 + 126 - 127, 100, 0, 0]);
  assert.equal(view.getFloat32(272, true), 1);
  assert.ok(bytes.subarray(Q8_K_BLOCK_BYTES).every((b) => b === 0), "the zero super-block: codes, sums and d all 0");
});

test("quantize_act_q8_k gives the same values d·code as ggml's sign convention (iscale = -127/max, max signed)", () => {
  // ggml's quantize_row_q8_K_ref, written out here: the largest-magnitude value keeps its sign in `max`, so a positive
  // max flips every code and d; the products must be identical to this kernel's.
  const rng = createRng(7);
  for (let trial = 0; trial < 20; trial++) {
    const x = randomFloats(rng, 256, 10 ** (trial % 4 - 2));
    const bytes = quantizeOne("q8_k", x);
    const d = new DataView(bytes.buffer).getFloat32(272, true);
    let max = 0;
    for (const v of x) if (Math.abs(v) > Math.abs(max)) max = v;
    const iscale = Math.fround(-127 / max);
    const ggmlD = Math.fround(1 / iscale);
    for (let i = 0; i < 256; i++) {
      const v = Math.fround(iscale * x[i]!);
      const code = Math.min(127, v - Math.floor(v) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
      assert.equal(d * new Int8Array(bytes.buffer)[i]! + 0, ggmlD * code + 0, `trial ${trial} value ${i}`); // (+ 0: -0 -> 0)
    }
  }
});
