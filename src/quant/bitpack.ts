/**
 * Bit packing of unsigned codes of width w = 0..8 bits into bytes.
 *
 * Layout (the contract every kernel that reads packed codes must follow):
 * - The codes of one group form a little-endian bit stream that starts at a byte boundary (`byteOffset`).
 *   Stream bit k is bit (k mod 8), counting from the least significant, of byte `byteOffset + floor(k / 8)`.
 * - Code i occupies stream bits [i·w, (i+1)·w), least significant bit first. For w = 3, 5, 6, 7 a code may straddle
 *   two bytes; for w = 1, 2, 4, 8 it never does.
 * - A group of `count` codes occupies exactly ceil(count·w / 8) bytes (`packedByteLength`). The unused high bits of
 *   the last byte are written as zero; the group owns all of its bytes, so groups never share a byte.
 * - w = 0 stores nothing and every code reads as 0.
 *
 * Why this layout suits SIMD decoding: every 8 consecutive codes starting at a multiple of 8 fill exactly w bytes.
 * Code block j (codes 8j..8j+7) therefore starts at byte j·w of the group with no padding, and one 64-bit load
 * holds a whole block (w ≤ 8 bytes), which shifts and masks expand into 8 lanes. A group of D = 8·m values is m·w
 * bytes: D = 8 -> w bytes, D = 64 -> 8·w bytes, D = 128 -> 16·w bytes. Groups of D = 64 (or 128) laid back to back
 * from an 8-byte (16-byte) aligned base therefore stay 8-byte (16-byte) aligned; where groups of different widths
 * are mixed, the caller chooses any padding between them.
 */
import { ConfigError } from "../util/errors.js";
import { checkCodeBits, checkIndex, checkSpan } from "./checkArgs.js";

/** Bytes needed for `count` codes of `bits` bits: ceil(count·bits / 8). */
export function packedByteLength(count: number, bits: number): number {
  checkIndex("count", count);
  checkCodeBits(bits);
  return Math.ceil((count * bits) / 8);
}

/**
 * Writes codes[0..count) (each < 2^bits) as a bit stream into dst[dstByteOffset ..
 * dstByteOffset + packedByteLength(count, bits)). Bytes outside that span are untouched.
 */
export function packCodes(
  codes: Uint8Array,
  count: number,
  bits: number,
  dst: Uint8Array,
  dstByteOffset: number,
): void {
  const byteLength = packedByteLength(count, bits);
  checkSpan("codes", codes.length, 0, count);
  checkSpan("dst", dst.length, dstByteOffset, byteLength);
  const maxCode = (1 << bits) - 1;
  // `pending` holds the bits not yet written, at most 7 + 8 of them, so it never overflows.
  let pending = 0;
  let pendingBits = 0;
  let byteIndex = dstByteOffset;
  for (let i = 0; i < count; i++) {
    const code = codes[i]!;
    if (code > maxCode) throw new ConfigError(`codes[${i}]`, `0..${maxCode} for ${bits}-bit codes`, code);
    pending |= code << pendingBits;
    pendingBits += bits;
    while (pendingBits >= 8) {
      dst[byteIndex++] = pending & 0xff;
      pending >>>= 8;
      pendingBits -= 8;
    }
  }
  if (pendingBits > 0) dst[byteIndex] = pending; // last partial byte, high bits zero
}

/**
 * Reads `count` codes of `bits` bits from the stream at src[srcByteOffset..] into out[0..count).
 * Reads exactly packedByteLength(count, bits) bytes. With bits = 0 it writes zeros.
 */
export function unpackCodes(
  src: Uint8Array,
  srcByteOffset: number,
  count: number,
  bits: number,
  out: Uint8Array,
): void {
  const byteLength = packedByteLength(count, bits);
  checkSpan("src", src.length, srcByteOffset, byteLength);
  checkSpan("out", out.length, 0, count);
  const mask = (1 << bits) - 1;
  // One byte refills `pending` whenever it holds fewer than `bits` bits, because bits ≤ 8.
  let pending = 0;
  let pendingBits = 0;
  let byteIndex = srcByteOffset;
  for (let i = 0; i < count; i++) {
    if (pendingBits < bits) {
      pending |= src[byteIndex++]! << pendingBits;
      pendingBits += 8;
    }
    out[i] = pending & mask;
    pending >>>= bits;
    pendingBits -= bits;
  }
}

/** Random access to code `index` of the group whose stream starts at `byteOffset`; touches only that group's bytes. */
export function readCode(src: Uint8Array, byteOffset: number, index: number, bits: number): number {
  checkCodeBits(bits);
  checkIndex("index", index);
  if (bits === 0) return 0;
  const firstBit = index * bits;
  const byteIndex = byteOffset + (firstBit >>> 3);
  const shift = firstBit & 7;
  const straddles = shift + bits > 8;
  checkSpan("src", src.length, byteIndex, straddles ? 2 : 1);
  const low = src[byteIndex]!;
  const high = straddles ? src[byteIndex + 1]! : 0;
  return ((low | (high << 8)) >>> shift) & ((1 << bits) - 1);
}
