import type { Compute } from "../kernels/Compute.js";
import { GrowableRegion } from "./GrowableRegion.js";
import type { F16Rows } from "./F16Rows.js";

/**
 * Working memory for attention over a cache held in more than one segment (packed tokens plus fp16 sinks or a
 * residual window). The mix kernels read probabilities with a row stride equal to their token count and overwrite
 * their output, so a segment that is not the whole row is mixed from a compact copy of its probability columns into
 * a partial output, which is then added to the result.
 *
 *   probs   [nq, len] f32   the segment's columns of the probability rows
 *   partial [nq, D]   f32   the segment's contribution
 *   codes   mix_scratch_bytes(nq, D) bytes: the integer mix kernels' int16 probabilities and sums (one call at a time)
 *
 * Transient, not cache storage: it grows to the largest block seen, is not part of nbytes() (its regions are named
 * "KV attention scratch"), and is freed with the cache.
 */
export class AttentionScratch {
  private readonly probs: GrowableRegion;
  private readonly partial: GrowableRegion;
  private readonly codes: GrowableRegion;

  constructor(private readonly compute: Compute) {
    this.probs = new GrowableRegion(compute.heap, "KV attention scratch (probabilities)");
    this.partial = new GrowableRegion(compute.heap, "KV attention scratch (partial output)");
    this.codes = new GrowableRegion(compute.heap, "KV attention scratch (int16 probabilities)");
  }

  /** Address of the integer mix kernels' scratch for nq query rows of D dimensions (valid until the next call). */
  mixCodes(nq: number, D: number): number {
    this.codes.ensure(this.compute.kernels.mix_scratch_bytes(nq, D), 0);
    return this.codes.ptr;
  }

  /**
   * out[i·D + d] += Σ_{r < len} p[i·T + column + r] · row_r[d], rows [0, len) of head `head` of `rows`.
   * probs: [nq, T] in the heap; outPtr: [nq, D] f32.
   */
  accumulateF16Mix(rows: F16Rows, head: number, probs: Float32Array, T: number, column: number, len: number, nq: number, outPtr: number): void {
    if (len === 0) return;
    const D = rows.headDim;
    this.probs.ensure(nq * len * 4, 0);
    this.partial.ensure(nq * D * 4, 0);
    const heap = this.compute.heap;
    const compact = new Float32Array(heap.memory.buffer, this.probs.ptr, nq * len);
    for (let i = 0; i < nq; i++) compact.set(probs.subarray(i * T + column, i * T + column + len), i * len);
    rows.mix(this.compute, head, this.probs.ptr, this.partial.ptr, nq, len);
    this.compute.kernels.add(0, nq * D, outPtr, this.partial.ptr);
  }

  free(): void {
    this.probs.free();
    this.partial.free();
    this.codes.free();
  }
}
