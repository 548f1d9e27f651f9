import { f16ToF32 } from "../../quant/fp16.js";
import { q8_0ActivationBytes } from "../kernelExports.js";

/**
 * Decoding of the quantized layouts the kernels read (see kernelExports.ts), written for clarity: every value is
 * expanded to float64, so a reference dot product over decoded rows carries no rounding of its own worth speaking of.
 *
 *   q8_0 weight block: 34 bytes = f16 d, 32 x int8 q;                       value = d·q
 *   q4_0 weight block: 18 bytes = f16 d, 16 bytes (byte j: element j in the low nibble, element j+16 in the high);
 *                                                                           value = d·(nibble - 8)
 *   q8_0 activations of one token: cols x int8 code, then cols/32 x f32 scale; value = scale·code
 */

export const Q8_0_BLOCK_BYTES = 34;
export const Q4_0_BLOCK_BYTES = 18;
export const BLOCK_ELEMENTS = 32;

/** Row `row` of a q8_0 matrix with `cols` columns, as float64 values. */
export function decodeQ8_0RowRef(bytes: Uint8Array, row: number, cols: number): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = cols / BLOCK_ELEMENTS;
  const values = new Float64Array(cols);
  for (let b = 0; b < blocks; b++) {
    const at = (row * blocks + b) * Q8_0_BLOCK_BYTES;
    const d = f16ToF32(view.getUint16(at, true));
    for (let j = 0; j < BLOCK_ELEMENTS; j++) values[b * BLOCK_ELEMENTS + j] = d * view.getInt8(at + 2 + j);
  }
  return values;
}

/** Row `row` of a q4_0 matrix with `cols` columns, as float64 values. */
export function decodeQ4_0RowRef(bytes: Uint8Array, row: number, cols: number): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = cols / BLOCK_ELEMENTS;
  const values = new Float64Array(cols);
  for (let b = 0; b < blocks; b++) {
    const at = (row * blocks + b) * Q4_0_BLOCK_BYTES;
    const d = f16ToF32(view.getUint16(at, true));
    for (let j = 0; j < 16; j++) {
      const byte = view.getUint8(at + 2 + j);
      values[b * BLOCK_ELEMENTS + j] = d * ((byte & 0x0f) - 8);
      values[b * BLOCK_ELEMENTS + j + 16] = d * ((byte >> 4) - 8);
    }
  }
  return values;
}

/** Token `token` of q8_0 activations (xq: [nTok, q8_0ActivationBytes(cols)]), as float64 values. */
export function decodeQ8_0ActivationsRef(xq: Uint8Array, token: number, cols: number): Float64Array {
  const view = new DataView(xq.buffer, xq.byteOffset, xq.byteLength);
  const base = token * q8_0ActivationBytes(cols);
  const values = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    const scale = view.getFloat32(base + cols + Math.floor(c / BLOCK_ELEMENTS) * 4, true);
    values[c] = scale * view.getInt8(base + c);
  }
  return values;
}

/**
 * The interleaved layout of a q8_0 / q4_0 matrix (kernels/assembly/lib/quantBlocks.ts), built from the plain one
 * byte by byte: whole groups of 4 rows become, block by block, the 4 rows' f16 scales then the 4 rows' codes; rows
 * after the last whole group are copied as they are.
 */
export function interleaveQuantRowsRef(plain: Uint8Array, kind: "q8_0" | "q4_0", rows: number, cols: number): Uint8Array {
  const blockBytes = kind === "q8_0" ? Q8_0_BLOCK_BYTES : Q4_0_BLOCK_BYTES;
  const codeBytes = blockBytes - 2;
  const blocks = cols / BLOCK_ELEMENTS;
  const rowBytes = blocks * blockBytes;
  const out = plain.slice(0, rows * rowBytes);
  for (let g = 0; g < Math.floor(rows / 4); g++) {
    let at = g * 4 * rowBytes;
    for (let b = 0; b < blocks; b++) {
      for (let k = 0; k < 4; k++) {
        const src = (g * 4 + k) * rowBytes + b * blockBytes;
        out[at + 2 * k] = plain[src]!;
        out[at + 2 * k + 1] = plain[src + 1]!;
        for (let j = 0; j < codeBytes; j++) out[at + 8 + k * codeBytes + j] = plain[src + 2 + j]!;
      }
      at += 8 + 4 * codeBytes;
    }
  }
  return out;
}
