import type { Compute } from "../kernels/Compute.js";
import type { KernelExports } from "../kernels/kernelExports.js";
import type { WeightMatrix } from "./weights.js";

/**
 * y = W·x for one token (matvec) or a block of tokens (matmul), dispatched on the weight's stored type.
 * Quantized weights (q8_0, q4_0) multiply int8 activations: x is quantized once per call into `xq`.
 *   x:   [nTok, cols] f32 (pointer)       xq: [nTok, q8ActivationBytes(cols)] scratch (pointer)
 *   out: [nTok, rows] f32 (pointer)
 */
const MATVEC: Record<WeightMatrix["type"], keyof KernelExports> = {
  f32: "matvec_f32",
  f16: "matvec_f16",
  bf16: "matvec_bf16",
  q8_0: "matvec_q8_0",
  q4_0: "matvec_q4_0",
};
const MATMUL: Record<WeightMatrix["type"], keyof KernelExports> = {
  f32: "matmul_f32",
  f16: "matmul_f16",
  bf16: "matmul_bf16",
  q8_0: "matmul_q8_0",
  q4_0: "matmul_q4_0",
};

/** Below this many multiply-adds a product runs on the main thread alone (a hand-off costs ~1 us). */
const PARALLEL_MIN_MACS = 1 << 15;
/** Rows per slice unit: kernels tile 4 rows at a time. */
const ROW_GRAIN = 4;

export function quantizedInput(m: WeightMatrix): boolean {
  return m.type === "q8_0" || m.type === "q4_0";
}

/** Quantizes the activations for a quantized weight; call once and reuse for every matrix with the same input. */
export function quantizeActivations(compute: Compute, x: number, xq: number, cols: number, nTok: number): void {
  if (nTok >= 8) compute.parallel("quantize_act_q8", nTok, [x, xq, cols]);
  else compute.kernels.quantize_act_q8(0, nTok, x, xq, cols);
}

/** out = W·x; for quantized weights `xq` must already hold quantizeActivations(x). */
export function linear(compute: Compute, m: WeightMatrix, x: number, xq: number, out: number, nTok: number): void {
  const input = quantizedInput(m) ? xq : x;
  const macs = m.rows * m.cols * nTok;
  const kernel = nTok === 1 ? MATVEC[m.type] : MATMUL[m.type];
  // the quantized matvecs also take rows: the interleaved layout's whole groups end at rows & ~3
  const matvecArgs = quantizedInput(m) ? [m.region.ptr, input, out, m.cols, m.rows] : [m.region.ptr, input, out, m.cols];
  const args = nTok === 1 ? matvecArgs : [m.region.ptr, input, out, m.cols, m.rows, nTok];
  if (macs >= PARALLEL_MIN_MACS) compute.parallel(kernel, m.rows, args, ROW_GRAIN);
  else (compute.kernels[kernel] as (...a: number[]) => void)(0, m.rows, ...args);
}
