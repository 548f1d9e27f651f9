import { f16ToF32, bf16ToF32 } from "../../quant/fp16.js";
import { decodeQ8_0RowRef, decodeQ4_0RowRef, decodeQ8_0ActivationsRef } from "./quantBlocksRef.js";

/**
 * Reference decode matvecs: out[r] = Σ_c W[r,c]·x[c] for r < rows, accumulated in float64.
 * W is [rows, cols] row-major in its stored form: Float32Array (f32), Uint16Array of f16 or bf16 bits, or the
 * q8_0/q4_0 block bytes (quantBlocksRef.ts; plain rows: the kernels read the interleaved form of the same bytes,
 * which the tests build with interleaveQuantRowsRef). Float weights take x: [cols] f32; quantized weights take one
 * token's q8_0 activations xq (quantize_act_q8_0 layout), whose decoded values scale·code stand in for x.
 */

export function matvecF32Ref(w: Float32Array, x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) out[r] = dot(cols, (c) => w[r * cols + c]!, (c) => x[c]!);
}

export function matvecF16Ref(w: Uint16Array, x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) out[r] = dot(cols, (c) => f16ToF32(w[r * cols + c]!), (c) => x[c]!);
}

export function matvecBf16Ref(w: Uint16Array, x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) out[r] = dot(cols, (c) => bf16ToF32(w[r * cols + c]!), (c) => x[c]!);
}

export function matvecQ8_0Ref(w: Uint8Array, xq: Uint8Array, out: Float32Array, rows: number, cols: number): void {
  const x = decodeQ8_0ActivationsRef(xq, 0, cols);
  for (let r = 0; r < rows; r++) {
    const row = decodeQ8_0RowRef(w, r, cols);
    out[r] = dot(cols, (c) => row[c]!, (c) => x[c]!);
  }
}

export function matvecQ4_0Ref(w: Uint8Array, xq: Uint8Array, out: Float32Array, rows: number, cols: number): void {
  const x = decodeQ8_0ActivationsRef(xq, 0, cols);
  for (let r = 0; r < rows; r++) {
    const row = decodeQ4_0RowRef(w, r, cols);
    out[r] = dot(cols, (c) => row[c]!, (c) => x[c]!);
  }
}

function dot(n: number, a: (i: number) => number, b: (i: number) => number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a(i) * b(i);
  return sum;
}
