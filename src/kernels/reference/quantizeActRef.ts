import { f16ToF32, f32ToF16 } from "../../quant/fp16.js";
import { q8_0ActivationBytes, q8KActivationBytes, Q8_K_BLOCK_BYTES } from "../kernelExports.js";

/**
 * References for quantize_act_q8_0 and quantize_act_q8_k (kernels/assembly/quantAct.ts): the int8 activations
 * llama.cpp's CPU backend multiplies quantized weights by (ggml-cpu's x86 quantize_row_q8_0; quantize_row_q8_K_ref).
 * Each f32 operation is evaluated in float64 and rounded once with Math.fround, which gives the correctly rounded f32
 * result of a single product or quotient (float64 has more than 2·24 + 2 bits), so this matches the kernels bit for
 * bit.
 */

/**
 * x: [nTok, cols] -> xq: [nTok, q8_0ActivationBytes(cols)] (per token: cols int8 codes, then cols/32 f32 scales).
 * Per block of 32: d = f16(f32(amax / 127)) (kept as its f32 value), id = f32(127 / amax) (0 when amax = 0),
 * code = round-half-to-even(f32(x · id)).
 */
export function quantizeActQ8_0Ref(x: Float32Array, xq: Uint8Array, nTok: number, cols: number): void {
  const view = new DataView(xq.buffer, xq.byteOffset, xq.byteLength);
  const tokenBytes = q8_0ActivationBytes(cols);
  for (let t = 0; t < nTok; t++) {
    for (let b = 0; b < cols / 32; b++) {
      const first = t * cols + b * 32;
      const amax = absMax(x, first, 32);
      view.setFloat32(t * tokenBytes + cols + b * 4, f16ToF32(f32ToF16(Math.fround(amax / 127))), true);
      const id = amax === 0 ? 0 : Math.fround(127 / amax);
      for (let j = 0; j < 32; j++) view.setInt8(t * tokenBytes + b * 32 + j, roundHalfToEven(Math.fround(x[first + j]! * id)));
    }
  }
}

/**
 * x: [nTok, cols] -> xq: [nTok, q8KActivationBytes(cols)] (per token and super-block of 256: 256 int8 codes, 8 i16
 * sums of 32 codes, f32 d, 12 zero bytes). iscale = f32(127 / amax), code = round-half-to-even(f32(x · iscale)),
 * d = f32(1 / iscale); an all-zero super-block gets d = 0 and codes 0.
 */
export function quantizeActQ8KRef(x: Float32Array, xq: Uint8Array, nTok: number, cols: number): void {
  const view = new DataView(xq.buffer, xq.byteOffset, xq.byteLength);
  const tokenBytes = q8KActivationBytes(cols);
  for (let t = 0; t < nTok; t++) {
    for (let sb = 0; sb < cols / 256; sb++) {
      const first = t * cols + sb * 256;
      const at = t * tokenBytes + sb * Q8_K_BLOCK_BYTES;
      const amax = absMax(x, first, 256);
      const iscale = amax === 0 ? 0 : Math.fround(127 / amax);
      for (let j = 0; j < 8; j++) {
        let sum = 0;
        for (let i = 0; i < 32; i++) {
          const code = roundHalfToEven(Math.fround(x[first + 32 * j + i]! * iscale));
          view.setInt8(at + 32 * j + i, code);
          sum += code;
        }
        view.setInt16(at + 256 + 2 * j, sum, true);
      }
      view.setFloat32(at + 272, amax === 0 ? 0 : Math.fround(1 / iscale), true);
      for (let i = 276; i < Q8_K_BLOCK_BYTES; i++) view.setUint8(at + i, 0);
    }
  }
}

function absMax(x: Float32Array, first: number, n: number): number {
  let amax = 0;
  for (let j = 0; j < n; j++) amax = Math.max(amax, Math.abs(x[first + j]!));
  return amax;
}

/** Nearest integer, ties to even (IEEE roundTiesToEven, as f32x4.nearest); Math.round would round ties up. */
export function roundHalfToEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
