import { test, before, after } from "node:test";
import { Compute } from "../../src/kernels/Compute.js";
import type { KernelExports } from "../../src/kernels/kernelExports.js";
import {
  BLOCKQ_BLOCK_BYTES, attnMixBlockqRef, attnScoresBlockqRef, type BlockqKind,
} from "../../src/kernels/reference/blockqAttentionRef.js";
import { f16ToF32 } from "../../src/quant/fp16.js";
import { dequantizeRowQ4_0, dequantizeRowQ8_0, quantizeRowQ4_0, quantizeRowQ8_0 } from "../../src/format/gguf/blockQuant.js";
import {
  HeapScope, KERNEL_RELATIVE, ORACLE_RELATIVE, assertWithinAllowed, createRandom, denseMix, denseScores, gaussianFloats,
  queryRoundingBound, softmaxRows, tolerances,
} from "./packedTestSupport.js";

// attn_scores_blockq_* / attn_mix_blockq_* against (1) the float64 reference reading the rows and (2) a dense oracle
// from ggml's reference dequantizers (src/format/gguf/blockQuant.ts); serial and over 2 threads.

let compute: Compute;

before(async () => {
  compute = await Compute.create(2);
});

after(() => compute.dispose());

const KERNELS: Readonly<Record<BlockqKind, { scores: keyof KernelExports; mix: keyof KernelExports }>> = {
  q8_0: { scores: "attn_scores_blockq_q8_0", mix: "attn_mix_blockq_q8_0" },
  q4_0: { scores: "attn_scores_blockq_q4_0", mix: "attn_mix_blockq_q4_0" },
};
/** Largest |code| of a block: q8_0 codes -128..127, q4_0 nibble - 8 in -8..7. */
const MAX_CODE: Readonly<Record<BlockqKind, number>> = { q8_0: 128, q4_0: 8 };
/** Tokens per chunk of the mix's int16 probabilities (blockqMix.ts). */
const MIX_CHUNK = 256;

/**
 * The mix rounds p·d to int16 against the largest |p·d| of each 256-token chunk (step s), so an output moves by at most
 * Σ_t s/2·|code_{t,d}| ≤ Σ_t s/2·MAX_CODE; 1% slack covers the f32 rounding of s.
 */
function probabilityRoundingBound(
  memory: Uint8Array, kind: BlockqKind, rows: BlockqRows, elemOffset: number, p: Float32Array, i: number, d: number, T: number,
): number {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const scaleAt = (t: number): number => rows.base + t * rows.rowBytes + ((elemOffset + d) >> 5) * BLOCKQ_BLOCK_BYTES[kind];
  let bound = 0;
  for (let t0 = 0; t0 < T; t0 += MIX_CHUNK) {
    const t1 = Math.min(T, t0 + MIX_CHUNK);
    let peak = 0;
    for (let t = t0; t < t1; t++) peak = Math.max(peak, Math.abs(p[i * T + t]! * f16ToF32(view.getUint16(scaleAt(t), true))));
    bound += (t1 - t0) * (peak / 32767 / 2) * MAX_CODE[kind];
  }
  return bound * 1.01;
}

interface BlockqRows {
  readonly base: number;
  readonly rowBytes: number;
  /** [T, nKv·D] dequantized values */
  readonly dense: Float32Array;
}

/** T token rows of nKv·D values, quantized with ggml's reference quantizers; rows 2 bytes apart, from an odd base. */
function buildRows(scope: HeapScope, random: () => number, kind: BlockqKind, T: number, width: number): BlockqRows {
  const rowBytes = (width / 32) * BLOCKQ_BLOCK_BYTES[kind] + 2;
  const region = scope.alloc(T * rowBytes + 1, "blockq rows");
  const base = region.ptr + 1;
  const values = gaussianFloats(random, T * width);
  const dense = new Float32Array(T * width);
  const row = new Uint8Array(rowBytes - 2);
  const memory = scope.bytes();
  for (let t = 0; t < T; t++) {
    const tokenValues = values.subarray(t * width, (t + 1) * width);
    if (kind === "q8_0") quantizeRowQ8_0(tokenValues, row);
    else quantizeRowQ4_0(tokenValues, row);
    memory.set(row, base + t * rowBytes);
    if (kind === "q8_0") dequantizeRowQ8_0(row, width, dense.subarray(t * width));
    else dequantizeRowQ4_0(row, width, dense.subarray(t * width));
  }
  return { base, rowBytes, dense };
}

function call(name: keyof KernelExports, rows: number, args: number[], parallel: boolean, grain: number): void {
  if (parallel) compute.parallel(name, rows, args, grain);
  else (compute.kernels[name] as unknown as (...a: number[]) => void)(0, rows, ...args);
}

function checkBlockq(kind: BlockqKind, nKv: number, D: number, T: number, nq: number, seed: number): void {
  const what = `${kind}, nKv ${nKv}, D ${D}, T ${T}, nq ${nq}`;
  const scope = new HeapScope(compute.heap);
  try {
    const random = createRandom(seed);
    const width = nKv * D;
    const rows = buildRows(scope, random, kind, T, width);
    const head = seed % nKv;
    const elemOffset = head * D;

    const q = scope.floats(gaussianFloats(random, nq * D), "q");
    const scores = scope.floats(new Float32Array(nq * T), "scores");
    const oracle = denseScores(q.view, rows.dense, width, elemOffset, nq, D, T);
    const reference = new Float64Array(nq * T);
    attnScoresBlockqRef(scope.bytes(), kind, rows.base, rows.rowBytes, elemOffset, q.view, reference, nq, D, T);
    assertWithinAllowed(reference, oracle.scores, tolerances(oracle.magnitudes, ORACLE_RELATIVE), `${what}: scores reference vs oracle`);
    // integer path: the rounding of q to int16 moves a score by at most step/2·Σ_d |x^_d|
    const allowed = tolerances(oracle.magnitudes, KERNEL_RELATIVE, (k) => {
      const t = k % T;
      let mass = 0;
      for (let d = 0; d < D; d++) mass += Math.abs(rows.dense[t * width + elemOffset + d]!);
      return queryRoundingBound(q.view, Math.floor(k / T), D, mass);
    });
    const scoreArgs = [q.ptr, scores.ptr, nq, D, T, rows.base, rows.rowBytes, elemOffset];
    for (const parallel of [false, true]) {
      scores.view.fill(NaN);
      call(KERNELS[kind].scores, T, scoreArgs, parallel, 1);
      assertWithinAllowed(scores.view, reference, allowed, `${what}: scores, ${parallel ? "2 threads" : "serial"}`);
    }

    const p = scope.floats(softmaxRows(random, nq, T), "p");
    const mix = scope.floats(new Float32Array(nq * D), "mix");
    const mixOracle = denseMix(p.view, rows.dense, width, elemOffset, nq, D, T);
    const mixReference = new Float64Array(nq * D);
    attnMixBlockqRef(scope.bytes(), kind, rows.base, rows.rowBytes, elemOffset, p.view, mixReference, nq, D, T);
    assertWithinAllowed(mixReference, mixOracle.mix, tolerances(mixOracle.magnitudes, ORACLE_RELATIVE), `${what}: mix reference vs oracle`);
    const scratch = scope.alloc(compute.kernels.mix_scratch_bytes(nq, D), "mix scratch");
    const mixArgs = [p.ptr, scratch.ptr, mix.ptr, nq, D, T, rows.base, rows.rowBytes, elemOffset];
    const mixAllowed = tolerances(mixOracle.magnitudes, KERNEL_RELATIVE,
      (k) => probabilityRoundingBound(scope.bytes(), kind, rows, elemOffset, p.view, Math.floor(k / D), k % D, T));
    for (const parallel of [false, true]) {
      mix.view.fill(NaN);
      call(KERNELS[kind].mix, D, mixArgs, parallel, 16);
      assertWithinAllowed(mix.view, mixReference, mixAllowed, `${what}: mix, ${parallel ? "2 threads" : "serial"}`);
    }
  } finally {
    scope.dispose();
  }
}

test("blockq q8_0 and q4_0: D 8 (blocks spanning 4 heads), 64, 72 (heads starting inside blocks); T 1..300; nq 1..8", () => {
  let seed = 1;
  for (const kind of ["q8_0", "q4_0"] as const) {
    for (const D of [8, 64, 72]) {
      for (const T of [1, 7, 33, 100, 300]) checkBlockq(kind, 4, D, T, 1 + (seed % 8), seed++);
    }
  }
});

test("blockq: every nq 1..8 on the integer path (D 64, T 200)", () => {
  for (const kind of ["q8_0", "q4_0"] as const) {
    for (let nq = 1; nq <= 8; nq++) checkBlockq(kind, 2, 64, 200, nq, 100 + nq);
  }
});

test("blockq: prefill-sized query blocks (nq 13, 20)", () => {
  checkBlockq("q8_0", 4, 64, 300, 13, 150);
  checkBlockq("q4_0", 4, 72, 300, 20, 151);
});

test("blockq: head offsets that are not multiples of 8 (scalar paths)", () => {
  for (const kind of ["q8_0", "q4_0"] as const) {
    for (const seed of [201, 203]) checkBlockq(kind, 8, 12, 40, 3, seed); // heads 1 and 3 start at elements 12 and 36
  }
});
