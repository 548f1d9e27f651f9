import type { Compute } from "../kernels/Compute.js";
import type { KernelExports } from "../kernels/kernelExports.js";
import type { QueryBlock } from "./KVCache.js";

/**
 * Helpers every cache's attention shares: the causal mask and the decision to split a token-parallel kernel
 * across threads.
 */

/** Below this many multiply-adds a kernel call runs on the main thread alone: a hand-off would cost more. */
export const PARALLEL_MIN_WORK = 1 << 16;

/**
 * Runs a kernel whose rows are cached tokens over [0, T); `workPerToken` multiply-adds per token decide whether to
 * split it over the pool.
 */
export function parallelOverTokens(compute: Compute, kernel: keyof KernelExports, T: number, workPerToken: number, args: number[]): void {
  if (T * workPerToken >= PARALLEL_MIN_WORK) compute.parallel(kernel, T, args, 16);
  else (compute.kernels[kernel] as (...a: number[]) => void)(0, T, ...args);
}

/**
 * Causal mask: sets scores[row, t] = -Infinity where stored token t sits at a later position than the row's query.
 * scores: [nTok*nRep, T]; positionOf(t) gives the position of stored token t (the identity for caches that evict nothing).
 */
export function maskFuturePositions(scores: Float32Array, block: QueryBlock, T: number, positionOf: (t: number) => number): void {
  const lastPos = block.firstPos + block.nTok - 1;
  if (positionOf(T - 1) <= block.firstPos) return; // decode, or every stored token precedes the block
  for (let tok = 0; tok < block.nTok; tok++) {
    const pos = block.firstPos + tok;
    if (pos === lastPos && positionOf(T - 1) <= lastPos) continue;
    for (let rep = 0; rep < block.nRep; rep++) {
      const row = (tok * block.nRep + rep) * T;
      for (let t = T - 1; t >= 0 && positionOf(t) > pos; t--) scores[row + t] = Number.NEGATIVE_INFINITY;
    }
  }
}
