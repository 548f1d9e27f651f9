/**
 * Reference of attn_window_codes (kernels/assembly/windowCodes.ts), and the code QAQ's attention window uses when it
 * has no wasm kernel: out[t] = the one-byte code of max_rep probs[rep·T + t] for t < visible.
 * bits: the probabilities' float32 bits as int32 ([nRep, T] from index 0); a negative value (never a probability)
 * is a negative int and loses to the running 0. code = 0 below 2^-31, else min(255, (bits >> 20) − SMALLEST + 1).
 */

/** float32 bits >>> 20 of 2^-31, the smallest probability with its own code */
export const SMALLEST_CODED = (127 - 31) << 3;
export const LARGEST_CODE = 255;

/** Code of a probability from its float32 bits >>> 20. */
export function encodeTop(top: number): number {
  if (top < SMALLEST_CODED) return 0;
  return Math.min(LARGEST_CODE, top - SMALLEST_CODED + 1);
}

/** out[t] for t < visible; `top` is [visible] int32 scratch. */
export function windowCodesRef(bits: Int32Array, nRep: number, T: number, visible: number, top: Int32Array, out: Uint8Array): void {
  top.fill(0, 0, visible);
  for (let rep = 0; rep < nRep; rep++) {
    for (let t = 0; t < visible; t++) {
      const b = bits[rep * T + t]!;
      if (b > top[t]!) top[t] = b;
    }
  }
  for (let t = 0; t < visible; t++) out[t] = encodeTop(top[t]! >>> 20);
}
