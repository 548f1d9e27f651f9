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
 * Runs a kernel whose rows are head dimensions over [0, D) (the mix kernels); `work` multiply-adds in total decide
 * whether to split it over the pool, in slices of `grain` dimensions.
 */
export function parallelOverDims(compute: Compute, kernel: keyof KernelExports, D: number, work: number, args: number[], grain = 16): void {
  if (work >= PARALLEL_MIN_WORK) compute.parallel(kernel, D, args, grain);
  else (compute.kernels[kernel] as (...a: number[]) => void)(0, D, ...args);
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

/**
 * Causal mask for caches whose stored tokens are not in position order (eviction caches reuse slots):
 * scores[row, t] = -Infinity wherever positions[t] is later than the row's position. positions: [T] stored positions.
 * A single-token block is the newest position, so nothing is masked and the scan is skipped.
 */
export function maskFutureUnordered(scores: Float32Array, block: QueryBlock, T: number, positions: ArrayLike<number>): void {
  if (block.nTok === 1) return;
  for (let tok = 0; tok < block.nTok; tok++) {
    const pos = block.firstPos + tok;
    for (let rep = 0; rep < block.nRep; rep++) {
      const row = (tok * block.nRep + rep) * T;
      for (let t = 0; t < T; t++) if (positions[t]! > pos) scores[row + t] = Number.NEGATIVE_INFINITY;
    }
  }
}
