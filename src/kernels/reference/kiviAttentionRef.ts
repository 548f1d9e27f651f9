/**
 * Reference for attn_scores_kivi (contract section 2, src/kernels/packedKernelExports.ts), read literally from the
 * heap bytes; sums in float64. Block: [codes 32 × ceil(D·bits/8) bytes, token-major][scale D × f16][zero D × f16],
 * x^_{r,d} = reconstructCode(c_{r,d}, scale_d, zero_d).
 */
import { readCode } from "../../quant/bitpack.js";
import { f16ToF32 } from "../../quant/fp16.js";
import { reconstructCode } from "../../quant/uniform.js";

/** Tokens per KIVI key block. */
export const KIVI_BLOCK_TOKENS = 32;

/** Bytes of one KIVI block of D channels at `bits`. */
export function kiviBlockBytes(D: number, bits: number): number {
  return KIVI_BLOCK_TOKENS * Math.ceil((D * bits) / 8) + 4 * D;
}

/** out[0..D) = x^ of token r of the block at `block`. */
export function kiviTokenValuesRef(memory: Uint8Array, block: number, bits: number, D: number, r: number, out: Float64Array): void {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const rowBytes = Math.ceil((D * bits) / 8);
  const scales = block + KIVI_BLOCK_TOKENS * rowBytes;
  const zeros = scales + 2 * D;
  for (let d = 0; d < D; d++) {
    const scale = f16ToF32(view.getUint16(scales + 2 * d, true));
    const zero = f16ToF32(view.getUint16(zeros + 2 * d, true));
    out[d] = reconstructCode(readCode(memory, block + r * rowBytes, d, bits), scale, zero);
  }
}

/**
 * out[i·T + tokenOffset + 32·j + r] = Σ_d q[i·D + d]·x^_{32j+r,d} for the blocks j in [begin, end) whose u32
 * pointers are at blockPtrs; q: [nq, D]; out: [nq, T].
 */
export function attnScoresKiviRef(
  memory: Uint8Array, blockPtrs: number, bits: number, tokenOffset: number, q: Float32Array, out: Float64Array,
  nq: number, D: number, T: number, begin: number, end: number,
): void {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const x = new Float64Array(D);
  for (let j = begin; j < end; j++) {
    const block = view.getUint32(blockPtrs + 4 * j, true);
    for (let r = 0; r < KIVI_BLOCK_TOKENS; r++) {
      kiviTokenValuesRef(memory, block, bits, D, r, x);
      for (let i = 0; i < nq; i++) {
        let sum = 0;
        for (let d = 0; d < D; d++) sum += q[i * D + d]! * x[d]!;
        out[i * T + tokenOffset + KIVI_BLOCK_TOKENS * j + r] = sum;
      }
    }
  }
}
