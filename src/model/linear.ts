import type { Compute } from "../kernels/Compute.js";
import type { KernelExports } from "../kernels/kernelExports.js";
import { GGML_TYPES, type ActivationKind } from "../format/gguf/ggmlTypes.js";
import type { WeightMatrix } from "./weights.js";

/**
 * y = W·x for one token (matvec) or a block of tokens (matmul), dispatched on the weight's stored type through its
 * traits record (format/gguf/ggmlTypes.ts: GGML_TYPES[type].kernels). Quantized weights multiply int8 activations in
 * the layout their type's dot product needs (q8_0 for q8_0/q4_0, q8_k for the K-quants, as llama.cpp): a
 * `LinearInput` quantizes x into each layout the first time a matrix asks for it and shares it with every other
 * matrix reading the same x (a Q4_K_M layer reads one input with Q4_K and Q6_K matrices: one q8_k form).
 *   x:   [nTok, cols] f32 (pointer)       out: [nTok, rows] f32 (pointer)
 */

/** Below this many multiply-adds a product runs on the main thread alone (a hand-off costs ~1 us). */
const PARALLEL_MIN_MACS = 1 << 15;
/** Rows per slice unit: kernels tile 4 rows at a time. */
const ROW_GRAIN = 4;

/** Scratch for the int8 forms of one input: [nTok, q8_0ActivationBytes(cols)] and [nTok, q8KActivationBytes(cols)]. */
export interface ActivationScratch {
  readonly q8_0: number;
  readonly q8_k: number;
}

/** One input x [nTok, cols] of the forward pass and its int8 forms, each quantized at most once. */
export class LinearInput {
  private readonly quantized = new Set<ActivationKind>();

  constructor(
    private readonly compute: Compute,
    readonly x: number,
    private readonly scratch: ActivationScratch,
    readonly cols: number,
    readonly nTok: number,
  ) {}

  /** Pointer to x in the layout `kind` (quantizing it on first use). */
  pointerFor(kind: ActivationKind): number {
    if (kind === "f32") return this.x;
    const xq = this.scratch[kind];
    if (!this.quantized.has(kind)) {
      const kernel = kind === "q8_0" ? "quantize_act_q8_0" : "quantize_act_q8_k";
      if (this.nTok >= 8) this.compute.parallel(kernel, this.nTok, [this.x, xq, this.cols]);
      else this.compute.kernels[kernel](0, this.nTok, this.x, xq, this.cols);
      this.quantized.add(kind);
    }
    return xq;
  }
}

/** out = W·x for the input's nTok tokens. */
export function linear(compute: Compute, m: WeightMatrix, input: LinearInput, out: number): void {
  const kernels = GGML_TYPES[m.type].kernels;
  const nTok = input.nTok;
  const x = input.pointerFor(kernels.input);
  const macs = m.rows * m.cols * nTok;
  const kernel: keyof KernelExports = nTok === 1 ? kernels.matvec : kernels.matmul;
  // the quantized matvecs also take rows: the interleaved layout's whole groups end at rows & ~3
  const matvecArgs = kernels.input === "f32" ? [m.region.ptr, x, out, m.cols] : [m.region.ptr, x, out, m.cols, m.rows];
  const args = nTok === 1 ? matvecArgs : [m.region.ptr, x, out, m.cols, m.rows, nTok];
  if (macs >= PARALLEL_MIN_MACS) compute.parallel(kernel, m.rows, args, ROW_GRAIN);
  else (compute.kernels[kernel] as (...a: number[]) => void)(0, m.rows, ...args);
}
