import { q8_0ActivationBytes } from "../kernelExports.js";
import { matvecF32Ref, matvecF16Ref, matvecBf16Ref, matvecQ8_0Ref, matvecQ4_0Ref } from "./matvecRef.js";

/**
 * Reference batched matmuls: out[t, r] = Σ_c W[r,c]·x[t,c], i.e. one reference matvec per token.
 * x: [nTok, cols] f32 (float weights) or [nTok, q8_0ActivationBytes(cols)] bytes (quantized weights); out: [nTok, rows].
 */

export function matmulF32Ref(w: Float32Array, x: Float32Array, out: Float32Array, rows: number, cols: number, nTok: number): void {
  for (let t = 0; t < nTok; t++) matvecF32Ref(w, floatToken(x, t, cols), outToken(out, t, rows), rows, cols);
}

export function matmulF16Ref(w: Uint16Array, x: Float32Array, out: Float32Array, rows: number, cols: number, nTok: number): void {
  for (let t = 0; t < nTok; t++) matvecF16Ref(w, floatToken(x, t, cols), outToken(out, t, rows), rows, cols);
}

export function matmulBf16Ref(w: Uint16Array, x: Float32Array, out: Float32Array, rows: number, cols: number, nTok: number): void {
  for (let t = 0; t < nTok; t++) matvecBf16Ref(w, floatToken(x, t, cols), outToken(out, t, rows), rows, cols);
}

export function matmulQ8_0Ref(w: Uint8Array, xq: Uint8Array, out: Float32Array, rows: number, cols: number, nTok: number): void {
  for (let t = 0; t < nTok; t++) matvecQ8_0Ref(w, q8Token(xq, t, cols), outToken(out, t, rows), rows, cols);
}

export function matmulQ4_0Ref(w: Uint8Array, xq: Uint8Array, out: Float32Array, rows: number, cols: number, nTok: number): void {
  for (let t = 0; t < nTok; t++) matvecQ4_0Ref(w, q8Token(xq, t, cols), outToken(out, t, rows), rows, cols);
}

function floatToken(x: Float32Array, t: number, cols: number): Float32Array {
  return x.subarray(t * cols, (t + 1) * cols);
}

function q8Token(xq: Uint8Array, t: number, cols: number): Uint8Array {
  const bytes = q8_0ActivationBytes(cols);
  return xq.subarray(t * bytes, (t + 1) * bytes);
}

function outToken(out: Float32Array, t: number, rows: number): Float32Array {
  return out.subarray(t * rows, (t + 1) * rows);
}
