import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { KIVI_BLOCK_TOKENS, attnScoresKiviRef, kiviBlockBytes } from "../../src/kernels/reference/kiviAttentionRef.js";
import { packCodes } from "../../src/quant/bitpack.js";
import { f16ToF32, f32ToF16 } from "../../src/quant/fp16.js";
import { createGroupGrid, dequantizeGroup, quantizeMinMax } from "../../src/quant/uniform.js";
import {
  HeapScope, KERNEL_RELATIVE, ORACLE_RELATIVE, assertWithinAllowed, createRandom, denseScores, gaussianFloats, tolerances,
} from "./packedTestSupport.js";

// attn_scores_kivi against (1) the float64 reference reading the block bytes and (2) a dense oracle dequantized from
// the unpacked per-channel codes; serial and over 2 threads.

let compute: Compute;

before(async () => {
  compute = await Compute.create(2);
});

after(() => compute.dispose());

interface KiviBlocks {
  /** u32 [blocks] block pointers (blocks placed out of order, at odd addresses) */
  readonly blockPtrs: number;
  /** [32·blocks, D] dequantized keys */
  readonly dense: Float32Array;
  /** [blocks, D] per-channel f16 scales as numbers */
  readonly scales: Float64Array;
  /** [32·blocks] Σ_d |c - mid| of each token */
  readonly centredCodeSums: Float64Array;
}

/** Keys quantized per channel over each block of 32 tokens with the project's min-max quantizer (src/quant). */
function buildKiviBlocks(scope: HeapScope, random: () => number, blocks: number, D: number, bits: number): KiviBlocks {
  const tokens = KIVI_BLOCK_TOKENS * blocks;
  // channels of different magnitudes, as KIVI's keys have (that is why it quantizes per channel)
  const keys = gaussianFloats(random, tokens * D).map((x, k) => x * (1 + 4 * ((k % D) % 5 === 0 ? 1 : 0)));
  const blockBytes = kiviBlockBytes(D, bits);
  const slab = scope.alloc(blocks * (blockBytes + 3) + 1, "kivi blocks");
  const pointers = scope.alloc(4 * blocks, "kivi block pointers");
  const pointerView = new Uint32Array(scope.heap.memory.buffer, pointers.ptr, blocks);
  const memory = scope.bytes();
  const view = new DataView(memory.buffer);
  const rowBytes = Math.ceil((D * bits) / 8);
  const dense = new Float32Array(tokens * D);
  const scales = new Float64Array(blocks * D);
  const centredCodeSums = new Float64Array(tokens);
  const column = new Float32Array(KIVI_BLOCK_TOKENS);
  const columnCodes = new Uint8Array(KIVI_BLOCK_TOKENS);
  const decoded = new Float32Array(KIVI_BLOCK_TOKENS);
  const tokenCodes = new Uint8Array(KIVI_BLOCK_TOKENS * D);
  const grid = createGroupGrid();
  for (let j = 0; j < blocks; j++) {
    const block = slab.ptr + 1 + (blocks - 1 - j) * (blockBytes + 3); // reversed order
    pointerView[j] = block;
    for (let d = 0; d < D; d++) {
      for (let r = 0; r < KIVI_BLOCK_TOKENS; r++) column[r] = keys[(KIVI_BLOCK_TOKENS * j + r) * D + d]!;
      quantizeMinMax(column, 0, KIVI_BLOCK_TOKENS, bits, null, columnCodes, grid);
      const scaleBits = f32ToF16(grid.scale);
      const zeroBits = f32ToF16(grid.zero);
      view.setUint16(block + KIVI_BLOCK_TOKENS * rowBytes + 2 * d, scaleBits, true);
      view.setUint16(block + KIVI_BLOCK_TOKENS * rowBytes + 2 * D + 2 * d, zeroBits, true);
      scales[j * D + d] = f16ToF32(scaleBits);
      dequantizeGroup(columnCodes, KIVI_BLOCK_TOKENS, bits, f16ToF32(scaleBits), f16ToF32(zeroBits), decoded);
      for (let r = 0; r < KIVI_BLOCK_TOKENS; r++) {
        dense[(KIVI_BLOCK_TOKENS * j + r) * D + d] = decoded[r]!;
        tokenCodes[r * D + d] = columnCodes[r]!;
        centredCodeSums[KIVI_BLOCK_TOKENS * j + r] += Math.abs(columnCodes[r]! - ((1 << bits) >> 1));
      }
    }
    for (let r = 0; r < KIVI_BLOCK_TOKENS; r++) packCodes(tokenCodes.subarray(r * D), D, bits, memory, block + r * rowBytes);
  }
  return { blockPtrs: pointers.ptr, dense, scales, centredCodeSums };
}

/**
 * The integer path rounds q' = q ⊙ scale to int16 per block and query (step S = max_d |q'_d|/32767): a score moves by
 * at most S/2·Σ_d |c_d - mid| (1% slack for f32 rounding).
 */
function kiviRoundingBound(q: Float32Array, i: number, kivi: KiviBlocks, token: number, D: number): number {
  const j = Math.floor(token / KIVI_BLOCK_TOKENS);
  let peak = 0;
  for (let d = 0; d < D; d++) peak = Math.max(peak, Math.abs(q[i * D + d]! * kivi.scales[j * D + d]!));
  return 1.01 * (peak / 32767 / 2) * kivi.centredCodeSums[token]!;
}

function checkKivi(bits: number, D: number, blocks: number, nq: number, tokenOffset: number, seed: number): void {
  const what = `bits ${bits}, D ${D}, blocks ${blocks}, nq ${nq}, tokenOffset ${tokenOffset}`;
  const scope = new HeapScope(compute.heap);
  try {
    const random = createRandom(seed);
    const kivi = buildKiviBlocks(scope, random, blocks, D, bits);
    const tokens = KIVI_BLOCK_TOKENS * blocks;
    const T = tokenOffset + tokens + 3; // columns outside the blocks stay untouched
    const q = scope.floats(gaussianFloats(random, nq * D), "q");
    const out = scope.floats(new Float32Array(nq * T), "scores");
    const inside = (k: number): boolean => k % T >= tokenOffset && k % T < tokenOffset + tokens;

    // the oracle covers the quantized columns; other columns of `expected` stay 0 and are not compared
    const { scores, magnitudes } = denseScores(q.view, kivi.dense, D, 0, nq, D, tokens);
    const expected = new Float64Array(nq * T);
    const expectedMagnitudes = new Float64Array(nq * T);
    for (let i = 0; i < nq; i++) {
      for (let t = 0; t < tokens; t++) {
        expected[i * T + tokenOffset + t] = scores[i * tokens + t]!;
        expectedMagnitudes[i * T + tokenOffset + t] = magnitudes[i * tokens + t]!;
      }
    }
    const reference = new Float64Array(nq * T);
    attnScoresKiviRef(scope.bytes(), kivi.blockPtrs, bits, tokenOffset, q.view, reference, nq, D, T, 0, blocks);
    assertWithinAllowed(reference, expected, tolerances(expectedMagnitudes, ORACLE_RELATIVE), `${what}: reference vs oracle`, inside);

    const allowed = tolerances(expectedMagnitudes, KERNEL_RELATIVE, (k) => {
      return inside(k) ? kiviRoundingBound(q.view, Math.floor(k / T), kivi, (k % T) - tokenOffset, D) : 0;
    });
    const args = [q.ptr, out.ptr, nq, D, T, kivi.blockPtrs, bits, tokenOffset];
    for (const mode of ["serial", "2 threads"]) {
      out.view.fill(777);
      if (mode === "serial") compute.kernels.attn_scores_kivi(0, blocks, q.ptr, out.ptr, nq, D, T, kivi.blockPtrs, bits, tokenOffset);
      else compute.parallel("attn_scores_kivi", blocks, args, 1);
      assertWithinAllowed(out.view, reference, allowed, `${what}: ${mode}`, inside);
      for (let k = 0; k < nq * T; k++) if (!inside(k)) assert.equal(out.view[k], 777, `${what}: ${mode}: column ${k % T} written`);
    }
  } finally {
    scope.dispose();
  }
}

test("KIVI keys: widths 0..8, D 8/64/72/128, 1/3/12 blocks, nq 1..8, token offsets 0 and 5", () => {
  let seed = 1;
  for (let bits = 0; bits <= 8; bits++) {
    for (const D of [8, 64, 72, 128]) {
      for (const blocks of [1, 3, 12]) {
        checkKivi(bits, D, blocks, 1 + (seed % 8), seed % 2 === 0 ? 0 : 5, seed);
        seed++;
      }
    }
  }
});

test("KIVI keys: every nq 1..8 on the integer path (D 64, 4 bits, 16 blocks)", () => {
  for (let nq = 1; nq <= 8; nq++) checkKivi(4, 64, 16, nq, 32, 100 + nq);
});

test("KIVI keys: prefill-sized query blocks (nq 13, 20)", () => {
  checkKivi(4, 64, 12, 13, 0, 150);
  checkKivi(3, 72, 12, 20, 5, 151);
});

test("KIVI keys: head size not a multiple of 8 (float path, channel by channel)", () => {
  checkKivi(3, 12, 3, 3, 0, 200);
  checkKivi(5, 5, 2, 2, 7, 201);
});

test("KIVI keys: an impossible width (9) gives NaN scores rather than reading codes with a wrong width", () => {
  const scope = new HeapScope(compute.heap);
  try {
    const random = createRandom(300);
    const D = 64, blocks = 8, nq = 2, T = KIVI_BLOCK_TOKENS * blocks;
    const kivi = buildKiviBlocks(scope, random, blocks, D, 4);
    const q = scope.floats(gaussianFloats(random, nq * D), "q");
    const out = scope.floats(new Float32Array(nq * T), "scores");
    compute.kernels.attn_scores_kivi(0, blocks, q.ptr, out.ptr, nq, D, T, kivi.blockPtrs, 9, 0);
    assert.ok(out.view.every(Number.isNaN));
  } finally {
    scope.dispose();
  }
});
