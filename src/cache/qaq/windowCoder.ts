import type { Compute } from "../../kernels/Compute.js";
import { GrowableRegion } from "../GrowableRegion.js";
import type { RowCoder } from "./AttentionWindow.js";

/**
 * The attention window's row codes from the wasm kernel attn_window_codes (SIMD max over the heads, the same bytes
 * as the window's JavaScript coder): the probabilities are already in the heap, so only the codes come back.
 * At 8K tokens this took QAQ's observe from ~2 ms to a fraction of that per decode step (8 KV heads).
 */
export class WasmRowCoder implements RowCoder {
  /** [visible] u8 codes of the last row coded (working memory, not cache storage) */
  private readonly out: GrowableRegion;

  constructor(private readonly compute: Compute) {
    this.out = new GrowableRegion(compute.heap, "KV attention scratch (window codes)");
  }

  codes(probs: Float32Array, row: number, nRep: number, T: number, visible: number): Uint8Array {
    // grown by doubling: T grows by one token per decode step
    if (visible > this.out.byteLength) this.out.ensure(Math.max(visible, 2 * this.out.byteLength), 0);
    const heap = this.compute.heap;
    this.compute.kernels.attn_window_codes(0, visible, heap.ptrOf(probs) + row * 4, this.out.ptr, nRep, T);
    return heap.u8(this.out, 0, visible);
  }

  free(): void {
    this.out.free();
  }
}
