/**
 * Argument checks shared by the quantization functions. They run once per call (O(1)), so a caller's mistake fails
 * at the boundary with a ConfigError naming the argument, never as a silent wrong answer or a read out of bounds.
 */
import { ConfigError } from "../util/errors.js";

/** Widest code this module packs; 16-bit storage is plain fp16 and belongs to the caller. */
export const MAX_CODE_BITS = 8;

/** Code width in bits: an integer 0..8 (0 stores nothing: every code is 0). */
export function checkCodeBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > MAX_CODE_BITS) {
    throw new ConfigError("bits", `an integer 0..${MAX_CODE_BITS} (16 bits is stored as fp16 by the caller)`, bits);
  }
}

/** A count or an offset: a non-negative safe integer. */
export function checkIndex(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(field, "a non-negative integer", value);
  }
}

/** `count` elements starting at `start` must lie inside an array of `arrayLength` elements. */
export function checkSpan(field: string, arrayLength: number, start: number, count: number): void {
  checkIndex(`${field} offset`, start);
  checkIndex(`${field} count`, count);
  if (start + count > arrayLength) {
    throw new ConfigError(field, `room for ${count} elements from index ${start}`, `length ${arrayLength}`);
  }
}

/** Outlier ratio α (both tails together): a number in [0, 1]. */
export function checkOutlierRatio(ratio: number): void {
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError("outlierRatio", "a number in [0, 1] (0.01 = 1%, both tails together)", ratio);
  }
}
