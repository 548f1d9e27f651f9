import { q8_0ActivationBytes, q8KActivationBytes, Q8_K_BLOCK_BYTES } from "../../src/kernels/kernelExports.js";
import { f32ToF16 } from "../../src/quant/fp16.js";
import {
  Q8_0_BLOCK_BYTES, Q4_0_BLOCK_BYTES, BLOCK_ELEMENTS, decodeQ8_0RowRef, decodeQ4_0RowRef,
} from "../../src/kernels/reference/quantBlocksRef.js";

/**
 * Random quantized test data in the kernels' byte layouts (see quantBlocksRef.ts). Scales mix signs and include f16
 * subnormals (q4_0's d is signed in ggml; tiny blocks give subnormal d); q8_0 codes include -128, which ggml's own
 * quantizer never writes but a file may hold.
 */

function randomScaleBits(rng: () => number): number {
  if (rng() < 0.15) return (1 + Math.floor(rng() * 0x3ff)) | (rng() < 0.5 ? 0x8000 : 0); // subnormal
  return f32ToF16((rng() < 0.3 ? -1 : 1) * (0.001 + 0.05 * rng()));
}

export function randomQ8_0Weights(rng: () => number, rows: number, cols: number): Uint8Array {
  const bytes = new Uint8Array((rows * cols / BLOCK_ELEMENTS) * Q8_0_BLOCK_BYTES);
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; at += Q8_0_BLOCK_BYTES) {
    view.setUint16(at, randomScaleBits(rng), true);
    for (let j = 0; j < BLOCK_ELEMENTS; j++) view.setInt8(at + 2 + j, rng() < 0.03 ? -128 : Math.floor(rng() * 255) - 127);
  }
  return bytes;
}

export function randomQ4_0Weights(rng: () => number, rows: number, cols: number): Uint8Array {
  const bytes = new Uint8Array((rows * cols / BLOCK_ELEMENTS) * Q4_0_BLOCK_BYTES);
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; at += Q4_0_BLOCK_BYTES) {
    view.setUint16(at, randomScaleBits(rng), true);
    for (let j = 0; j < 16; j++) view.setUint8(at + 2 + j, Math.floor(rng() * 256));
  }
  return bytes;
}

/** nTok tokens of q8_0 activations: random codes in [-127, 127] and positive f32 block scales. */
export function randomQ8_0Activations(rng: () => number, nTok: number, cols: number): Uint8Array {
  const tokenBytes = q8_0ActivationBytes(cols);
  const bytes = new Uint8Array(nTok * tokenBytes);
  const view = new DataView(bytes.buffer);
  for (let t = 0; t < nTok; t++) {
    for (let c = 0; c < cols; c++) view.setInt8(t * tokenBytes + c, Math.floor(rng() * 255) - 127);
    for (let b = 0; b < cols / BLOCK_ELEMENTS; b++) view.setFloat32(t * tokenBytes + cols + 4 * b, Math.fround(0.001 + 0.02 * rng()), true);
  }
  return bytes;
}

/**
 * nTok tokens of q8_k activations: per super-block random codes in [-127, 127], the i16 sums of each 32 codes that
 * quantize_act_q8_k writes after them, and a random f32 scale (negative in some blocks: ggml's own Q8_K scales are).
 */
export function randomQ8KActivations(rng: () => number, nTok: number, cols: number): Uint8Array {
  const bytes = new Uint8Array(nTok * q8KActivationBytes(cols));
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; at += Q8_K_BLOCK_BYTES) {
    for (let j = 0; j < 8; j++) {
      let sum = 0;
      for (let i = 0; i < 32; i++) {
        const code = Math.floor(rng() * 255) - 127;
        view.setInt8(at + 32 * j + i, code);
        sum += code;
      }
      view.setInt16(at + 256 + 2 * j, sum, true);
    }
    view.setFloat32(at + 272, Math.fround((rng() < 0.2 ? -1 : 1) * (0.001 + 0.02 * rng())), true);
  }
  return bytes;
}

/** Σ_c |W[r,c]·x[c]| per row of a quantized matrix against decoded activations x. */
export function quantMagnitudes(kind: "q8_0" | "q4_0", w: Uint8Array, x: Float64Array, rows: number, cols: number): Float64Array {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = kind === "q8_0" ? decodeQ8_0RowRef(w, r, cols) : decodeQ4_0RowRef(w, r, cols);
    for (let c = 0; c < cols; c++) sums[r] += Math.abs(row[c]! * x[c]!);
  }
  return sums;
}
