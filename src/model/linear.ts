import type { Compute } from "../kernels/Compute.js";
import type { KernelExports } from "../kernels/kernelExports.js";
import { GGML_TYPES } from "../format/gguf/ggmlTypes.js";
import type { WeightMatrix } from "./weights.js";

/**
 * y = W·x for one token (matvec) or a block of tokens (matmul), dispatched on the weight's stored type through its
 * traits record (format/gguf/ggmlTypes.ts: GGML_TYPES[type].kernels). Quantized weights (q8_0, q4_0, q4_k, q5_k,
 * q6_k) multiply q8 activations: x is quantized once per input into `xq` and shared by every matrix reading it.
 *   x:   [nTok, cols] f32 (pointer)       xq: [nTok, q8ActivationBytes(cols)] scratch (pointer)
 *   out: [nTok, rows] f32 (pointer)
 */

/** Below this many multiply-adds a product runs on the main thread alone (a hand-off costs ~1 us). */
const PARALLEL_MIN_MACS = 1 << 15;
/** Rows per slice unit: kernels tile 4 rows at a time. */
const ROW_GRAIN = 4;

export function quantizedInput(m: WeightMatrix): boolean {
  return GGML_TYPES[m.type].kernels.input === "q8";
}

/** Quantizes the activations for a quantized weight; call once and reuse for every matrix with the same input. */
export function quantizeActivations(compute: Compute, x: number, xq: number, cols: number, nTok: number): void {
  if (nTok >= 8) compute.parallel("quantize_act_q8", nTok, [x, xq, cols]);
  else compute.kernels.quantize_act_q8(0, nTok, x, xq, cols);
}

/** out = W·x; for quantized weights `xq` must already hold quantizeActivations(x). */
export function linear(compute: Compute, m: WeightMatrix, x: number, xq: number, out: number, nTok: number): void {
  const kernels = GGML_TYPES[m.type].kernels;
  const q8 = kernels.input === "q8";
  const input = q8 ? xq : x;
  const macs = m.rows * m.cols * nTok;
  const kernel: keyof KernelExports = nTok === 1 ? kernels.matvec : kernels.matmul;
  // the quantized matvecs also take rows: the interleaved layout's whole groups end at rows & ~3
  const matvecArgs = q8 ? [m.region.ptr, input, out, m.cols, m.rows] : [m.region.ptr, input, out, m.cols];
  const args = nTok === 1 ? matvecArgs : [m.region.ptr, input, out, m.cols, m.rows, nTok];
  if (macs >= PARALLEL_MIN_MACS) compute.parallel(kernel, m.rows, args, ROW_GRAIN);
  else (compute.kernels[kernel] as (...a: number[]) => void)(0, m.rows, ...args);
}
