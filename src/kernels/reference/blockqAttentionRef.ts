/**
 * References for attn_scores_blockq_* / attn_mix_blockq_* (contract section 3, src/kernels/packedKernelExports.ts),
 * read literally from the heap bytes; sums in float64. Token t's row at base + t·rowBytes is a sequence of blocks of
 * 32 elements; the head's value d is row element elemOffset + d.
 *   q8_0 block (34 bytes): f16 d, 32 × i8 q                  x^ = d·q
 *   q4_0 block (18 bytes): f16 d, byte j = element j (low nibble), element j+16 (high nibble)    x^ = d·(nibble - 8)
 */
import { f16ToF32 } from "../../quant/fp16.js";

export type BlockqKind = "q8_0" | "q4_0";

/** Bytes of one block of 32 values. */
export const BLOCKQ_BLOCK_BYTES: Readonly<Record<BlockqKind, number>> = { q8_0: 34, q4_0: 18 };

/** x^ of element `element` of the row at `row`. */
export function blockqValueRef(memory: Uint8Array, kind: BlockqKind, row: number, element: number): number {
  const block = row + Math.floor(element / 32) * BLOCKQ_BLOCK_BYTES[kind];
  const within = element % 32;
  const d = f16ToF32(memory[block]! | (memory[block + 1]! << 8));
  if (kind === "q8_0") return d * ((memory[block + 2 + within]! << 24) >> 24);
  const packed = memory[block + 2 + (within % 16)]!;
  const nibble = within < 16 ? packed & 0x0f : packed >>> 4;
  return d * (nibble - 8);
}

/** out[i·T + t] = Σ_d q[i·D + d]·x^_{t,d} for t in [begin, end). */
export function attnScoresBlockqRef(
  memory: Uint8Array, kind: BlockqKind, base: number, rowBytes: number, elemOffset: number, q: Float32Array,
  out: Float64Array, nq: number, D: number, T: number, begin = 0, end = T,
): void {
  for (let t = begin; t < end; t++) {
    for (let i = 0; i < nq; i++) {
      let sum = 0;
      for (let d = 0; d < D; d++) sum += q[i * D + d]! * blockqValueRef(memory, kind, base + t * rowBytes, elemOffset + d);
      out[i * T + t] = sum;
    }
  }
}

/** out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d} for every d in [0, D). */
export function attnMixBlockqRef(
  memory: Uint8Array, kind: BlockqKind, base: number, rowBytes: number, elemOffset: number, p: Float32Array,
  out: Float64Array, nq: number, D: number, T: number,
): void {
  out.fill(0, 0, nq * D);
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < D; d++) {
      const x = blockqValueRef(memory, kind, base + t * rowBytes, elemOffset + d);
      for (let i = 0; i < nq; i++) out[i * D + d] += p[i * T + t]! * x;
    }
  }
}
