import { q8ActivationBytes } from "../kernelExports.js";
import { BLOCK_ELEMENTS } from "./quantBlocksRef.js";

/**
 * Reference for quantize_act_q8. x: [nTok, cols] f32 -> xq: [nTok, q8ActivationBytes(cols)] bytes (per token `cols`
 * int8 codes, then cols/32 little-endian f32 scales, then cols/32 f32 block sums); cols % 32 == 0.
 * Per block of 32: scale = f32(amax / 127), code = round-half-to-even(f32(x / scale)); scale 0 gives codes 0;
 * sum = f32(scale · Σ codes).
 * Each f32 operation is evaluated in float64 and rounded once with Math.fround, which gives the correctly rounded
 * f32 result for a single division (float64 has more than 2·24 + 2 bits), so this matches the kernel bit for bit.
 */
export function quantizeActQ8Ref(x: Float32Array, xq: Uint8Array, nTok: number, cols: number): void {
  const view = new DataView(xq.buffer, xq.byteOffset, xq.byteLength);
  const tokenBytes = q8ActivationBytes(cols);
  for (let t = 0; t < nTok; t++) {
    for (let b = 0; b < cols / BLOCK_ELEMENTS; b++) {
      const first = t * cols + b * BLOCK_ELEMENTS;
      let amax = 0;
      for (let j = 0; j < BLOCK_ELEMENTS; j++) amax = Math.max(amax, Math.abs(x[first + j]!));
      const scale = Math.fround(amax / 127);
      view.setFloat32(t * tokenBytes + cols + b * 4, scale, true);
      let codeSum = 0;
      for (let j = 0; j < BLOCK_ELEMENTS; j++) {
        const code = scale === 0 ? 0 : roundHalfToEven(Math.fround(x[first + j]! / scale));
        view.setInt8(t * tokenBytes + b * BLOCK_ELEMENTS + j, code);
        codeSum += code;
      }
      view.setFloat32(t * tokenBytes + cols + (cols / BLOCK_ELEMENTS) * 4 + b * 4, Math.fround(scale * codeSum), true);
    }
  }
}

/** Nearest integer, ties to even (IEEE roundTiesToEven, as f32x4.nearest); Math.round would round ties up. */
export function roundHalfToEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
